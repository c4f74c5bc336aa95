// The images `dsod infer` is given: files, and folders expanded to the images inside them (not recursive).
import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif'];

export function listImages(inputs: readonly string[]): { images: string[]; problems: string[] } {
  const images: string[] = [];
  const problems: string[] = [];
  for (const input of inputs) {
    let isDir: boolean;
    try {
      isDir = statSync(input).isDirectory();
    } catch (e) {
      problems.push(`${input}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (e as Error).message}`);
      continue;
    }
    if (!isDir) {
      images.push(input);
      continue;
    }
    const found = readdirSync(input)
      .filter((n) => IMAGE_EXTENSIONS.includes(extname(n).toLowerCase()))
      .sort()
      .map((n) => join(input, n));
    if (!found.length) problems.push(`${input}: no images (${IMAGE_EXTENSIONS.join(', ')}) in this folder`);
    images.push(...found);
  }
  return { images, problems };
}
