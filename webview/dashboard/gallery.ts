/// <reference lib="dom" />
// The inference gallery: each image with its predicted boxes and labels, and beside it the ground truth where the set
// has it. Boxes are absolutely placed elements in percent of the image (the CSSOM, which the CSP allows), so they stay
// on their objects at any size; the score slider only toggles their `hidden` flag.
import type { GalleryData, GalleryImage } from '../../protocol/dashboard';
import type { Rgb } from '../graph/colors';

export interface GalleryCounts {
  images: number;
  shown: number;
  boxes: number;
  truth: number;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, parent?: HTMLElement, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  parent?.append(e);
  return e;
}

const baseName = (p: string) => p.slice(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1);
const pct = (v: number, of: number) => `${((100 * v) / of).toFixed(3)}%`;
/** Black or white text on a colour, whichever reads. */
const ink = (c: Rgb) => (0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2] > 140 ? '#000' : '#fff');

export class GalleryView {
  private boxes: { el: HTMLElement; score: number }[] = [];
  private truthPanes: HTMLElement[] = [];
  private data: GalleryData | null = null;

  constructor(private readonly grid: HTMLElement) {}

  /** Draw a gallery (null: none yet). */
  show(data: GalleryData | null, color: (name: string) => Rgb, threshold: number, truth: boolean): GalleryCounts {
    this.data = data;
    this.boxes = [];
    this.truthPanes = [];
    this.grid.replaceChildren();
    if (!data) return { images: 0, shown: 0, boxes: 0, truth: 0 };
    for (const img of data.images) this.grid.append(this.card(img, color));
    this.setTruth(truth);
    return this.setThreshold(threshold);
  }

  private card(img: GalleryImage, color: (name: string) => Rgb): HTMLElement {
    const card = el('figure', 'card');
    card.style.margin = '0';
    card.dataset.image = img.path;
    const caption = el('figcaption', 'caption', card);
    const file = el('span', 'file', caption, baseName(img.path));
    file.title = img.path;
    el('span', 'muted num', caption, `${img.detections.length} predicted${img.truth ? ` · ${img.truth.length} true` : ''}`);
    const panes = el('div', 'panes', card);
    const pred = this.pane(panes, 'predicted', img);
    for (const d of img.detections) {
      const b = this.box(pred, img, d.box, color(d.name), `${d.name} ${d.score.toFixed(2)}`, 'pred');
      b.dataset.score = String(d.score);
      this.boxes.push({ el: b, score: d.score });
    }
    if (img.truth) {
      const truthPane = this.pane(panes, 'ground truth', img);
      this.truthPanes.push(truthPane.parentElement!);
      for (const t of img.truth) {
        const b = this.box(truthPane, img, t.box, color(t.name), t.difficult ? `${t.name} (difficult)` : t.name, 'truth');
        if (t.difficult) b.classList.add('difficult');
      }
    }
    return card;
  }

  /** A labelled image frame; returns the element boxes go in. */
  private pane(parent: HTMLElement, label: string, img: GalleryImage): HTMLElement {
    const pane = el('div', 'pane', parent);
    el('div', 'label', pane, label);
    const frame = el('div', 'frame-img', pane);
    if (img.src) {
      const i = el('img', '', frame);
      i.alt = `${baseName(img.path)} (${label})`;
      i.src = img.src;
      i.width = img.width || 1;
      i.height = img.height || 1;
    } else {
      el('div', 'placeholder', frame, img.note ?? 'image not available');
    }
    return frame;
  }

  private box(frame: HTMLElement, img: GalleryImage, box: readonly number[], c: Rgb, text: string, kind: 'pred' | 'truth'): HTMLElement {
    const w = img.width || 1;
    const h = img.height || 1;
    const [x1, y1, x2, y2] = [Math.max(0, box[0]), Math.max(0, box[1]), Math.min(w, box[2]), Math.min(h, box[3])];
    const b = el('div', `box ${kind}`, frame);
    b.style.left = pct(x1, w);
    b.style.top = pct(y1, h);
    b.style.width = pct(Math.max(0, x2 - x1), w);
    b.style.height = pct(Math.max(0, y2 - y1), h);
    const rgb = `rgb(${c.join(',')})`;
    b.style.borderColor = rgb;
    if (y1 < 0.12 * h) b.classList.add('low'); // no room above the box: the tag goes inside
    const tag = el('span', 'tag', b, text);
    tag.style.background = rgb;
    tag.style.color = ink(c);
    return b;
  }

  /** Show the predicted boxes scoring at least `t`. */
  setThreshold(t: number): GalleryCounts {
    let shown = 0;
    for (const b of this.boxes) {
      const on = b.score >= t;
      if (b.el.hidden === on) b.el.hidden = !on;
      if (on) shown++;
    }
    const truth = this.data?.images.reduce((s, i) => s + (i.truth?.length ?? 0), 0) ?? 0;
    return { images: this.data?.images.length ?? 0, shown, boxes: this.boxes.length, truth };
  }

  setTruth(on: boolean): void {
    for (const p of this.truthPanes) p.hidden = !on;
  }
}
