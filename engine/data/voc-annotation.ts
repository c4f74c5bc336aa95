// Pascal VOC annotation files: the writer (the synthetic generator and test fixtures use it). The reader is voc.ts.
import { escapeXml } from './xml';

export interface VocObjectOut {
  name: string;
  /** VOC pixel coordinates: 1-based, both ends included. */
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
  difficult: boolean;
  truncated: boolean;
}

export function vocAnnotationXml(a: { folder: string; filename: string; width: number; height: number; database: string; objects: VocObjectOut[] }): string {
  const lines = [
    '<annotation>',
    `\t<folder>${escapeXml(a.folder)}</folder>`,
    `\t<filename>${escapeXml(a.filename)}</filename>`,
    `\t<source>\n\t\t<database>${escapeXml(a.database)}</database>\n\t</source>`,
    `\t<size>\n\t\t<width>${a.width}</width>\n\t\t<height>${a.height}</height>\n\t\t<depth>3</depth>\n\t</size>`,
    '\t<segmented>0</segmented>',
  ];
  for (const o of a.objects) {
    lines.push(
      '\t<object>',
      `\t\t<name>${escapeXml(o.name)}</name>`,
      '\t\t<pose>Unspecified</pose>',
      `\t\t<truncated>${o.truncated ? 1 : 0}</truncated>`,
      `\t\t<difficult>${o.difficult ? 1 : 0}</difficult>`,
      `\t\t<bndbox>\n\t\t\t<xmin>${o.xmin}</xmin>\n\t\t\t<ymin>${o.ymin}</ymin>\n\t\t\t<xmax>${o.xmax}</xmax>\n\t\t\t<ymax>${o.ymax}</ymax>\n\t\t</bndbox>`,
      '\t</object>',
    );
  }
  lines.push('</annotation>', '');
  return lines.join('\n');
}
