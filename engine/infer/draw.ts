// Detections drawn on the image, as a PNG: sharp composites an SVG overlay (boxes, class names, scores) onto the
// original pixels. Written atomically.
import sharp from 'sharp';
import { writeFileAtomic } from '../data/files';
import type { ImageDetections } from './infer';

const COLORS = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45', '#fabed4', '#469990', '#dcbeff', '#9a6324'];

export async function drawDetections(r: ImageDetections, outPath: string): Promise<void> {
  const { width: w, height: h } = r;
  const line = Math.max(1, Math.round(Math.min(w, h) / 150));
  const font = Math.max(9, Math.round(Math.min(w, h) / 28));
  const parts = r.detections.map((d) => {
    const c = COLORS[(d.label - 1) % COLORS.length];
    const [x0, y0, x1, y1] = d.box.map((v) => Math.round(v));
    const text = `${escapeXml(d.name)} ${d.score.toFixed(2)}`;
    const tw = Math.round(text.length * font * 0.6) + 4;
    const ty = y0 - font - 2 >= 0 ? y0 - font - 2 : y0;
    return (
      `<rect x="${x0}" y="${y0}" width="${Math.max(1, x1 - x0)}" height="${Math.max(1, y1 - y0)}" fill="none" stroke="${c}" stroke-width="${line}"/>` +
      `<rect x="${x0}" y="${ty}" width="${tw}" height="${font + 2}" fill="${c}"/>` +
      `<text x="${x0 + 2}" y="${ty + font - 1}" font-family="sans-serif" font-size="${font}" fill="#fff">${text}</text>`
    );
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">${parts.join('')}</svg>`;
  const png = await sharp(r.image)
    .removeAlpha()
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png()
    .toBuffer();
  await writeFileAtomic(outPath, png);
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[ch]!);
}
