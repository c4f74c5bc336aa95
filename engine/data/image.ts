// Image decoding with sharp (libvips): JPEG/PNG/WebP in, 8-bit RGB out, optionally resized on the way.
import sharp from 'sharp';

/** 8-bit RGB, row-major, 3 bytes a pixel. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  /** The stored image's own size, before any resizing (decodeImage sets it). */
  source?: { width: number; height: number };
}

export interface DecodeOptions {
  /** Shrink (never enlarge) so that the longer side is at most this, keeping the aspect ratio. */
  maxSide?: number;
  /** Resize to exactly this size, ignoring the aspect ratio (SSD's WARP resize). Wins over maxSide. */
  size?: { width: number; height: number };
}

/**
 * Decode an image file (or bytes) to RGB. Rejects on a missing, truncated or corrupt file (libvips warnings count as
 * errors: a half-decoded image would train on grey). EXIF orientation is not applied: VOC and COCO boxes refer to the
 * stored pixels.
 */
export async function decodeImage(input: string | Uint8Array, o: DecodeOptions = {}): Promise<RawImage> {
  let img = sharp(input, { failOn: 'warning' }).removeAlpha().toColourspace('srgb');
  if (o.size) img = img.resize(o.size.width, o.size.height, { fit: 'fill' });
  else if (o.maxSide) img = img.resize(o.maxSide, o.maxSide, { fit: 'inside', withoutEnlargement: true });
  // The header's size (the annotation's boxes are checked against it); the same input, read once more for the pixels.
  const meta = await img.metadata();
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels after conversion to sRGB, got ${info.channels}`);
  const source = meta.width && meta.height ? { width: meta.width, height: meta.height } : { width: info.width, height: info.height };
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, source };
}

/** Width and height from the file header only (cheap: no pixel decoding). */
export async function imageSize(path: string): Promise<{ width: number; height: number }> {
  const m = await sharp(path).metadata();
  if (!m.width || !m.height) throw new Error('the image header has no size');
  return { width: m.width, height: m.height };
}
