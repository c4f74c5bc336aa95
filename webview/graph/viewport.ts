/// <reference lib="dom" />
// Zoom and pan of the drawing: a transform on one group, driven by the wheel (Ctrl/Cmd + wheel or a pinch zooms,
// plain wheel pans, as in VS Code's editors), by dragging the background, and by the toolbar and keyboard.
import type { Box } from './layout';

export interface Transform {
  x: number;
  y: number;
  k: number;
}

const MIN_K = 0.1;
const MAX_K = 3;
const clamp = (k: number) => Math.min(MAX_K, Math.max(MIN_K, k));

export class Viewport {
  private t: Transform = { x: 0, y: 0, k: 1 };

  constructor(
    private readonly svg: SVGSVGElement,
    private readonly group: SVGGElement,
    private readonly onChange: (t: Transform) => void,
    /** Called before the user's own wheel zoom, wheel pan or drag changes the view. */
    private readonly onUserMove: () => void = () => undefined,
  ) {
    svg.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    svg.addEventListener('pointerdown', (e) => this.onPointerDown(e));
  }

  get transform(): Transform {
    return { ...this.t };
  }

  set(t: Transform): void {
    this.t = { x: t.x, y: t.y, k: clamp(t.k) };
    this.group.setAttribute('transform', `translate(${this.t.x.toFixed(2)},${this.t.y.toFixed(2)}) scale(${this.t.k.toFixed(4)})`);
    this.onChange(this.transform);
  }

  private size(): { w: number; h: number } {
    const r = this.svg.getBoundingClientRect();
    return { w: r.width || 800, h: r.height || 600 };
  }

  /** Show all of a `width` x `height` drawing, centred, never magnified past 1. */
  fit(width: number, height: number, margin = 12): void {
    const { w, h } = this.size();
    const k = clamp(Math.min((w - 2 * margin) / Math.max(width, 1), (h - 2 * margin) / Math.max(height, 1), 1));
    this.set({ k, x: (w - width * k) / 2, y: Math.max(margin, (h - height * k) / 2) });
  }

  /** Zoom by `factor` keeping the screen point (cx, cy) still; the centre by default. */
  zoom(factor: number, cx?: number, cy?: number): void {
    const { w, h } = this.size();
    const px = cx ?? w / 2;
    const py = cy ?? h / 2;
    const k = clamp(this.t.k * factor);
    const f = k / this.t.k;
    this.set({ k, x: px - (px - this.t.x) * f, y: py - (py - this.t.y) * f });
  }

  panBy(dx: number, dy: number): void {
    this.set({ ...this.t, x: this.t.x + dx, y: this.t.y + dy });
  }

  /** Pan just enough to bring a node (drawing coordinates) into view. */
  reveal(b: Box, margin = 24): void {
    const { w, h } = this.size();
    const { x, y, k } = this.t;
    const left = b.x * k + x;
    const top = b.y * k + y;
    const right = left + b.w * k;
    const bottom = top + b.h * k;
    let dx = 0;
    let dy = 0;
    if (right > w - margin) dx = w - margin - right;
    if (left + dx < margin) dx = margin - left;
    if (bottom > h - margin) dy = h - margin - bottom;
    if (top + dy < margin) dy = margin - top;
    if (dx || dy) this.panBy(dx, dy);
  }

  private onWheel(e: WheelEvent): void {
    e.preventDefault();
    this.onUserMove();
    const r = this.svg.getBoundingClientRect();
    if (e.ctrlKey || e.metaKey) this.zoom(Math.exp(-e.deltaY * 0.002), e.clientX - r.left, e.clientY - r.top);
    else this.panBy(-e.deltaX, -e.deltaY);
  }

  private onPointerDown(e: PointerEvent): void {
    // Dragging starts on the background only: a press on a node is a click.
    if (e.button !== 0 || (e.target as Element).closest('.node')) return;
    const start = { x: e.clientX, y: e.clientY, t: this.transform };
    this.svg.setPointerCapture(e.pointerId);
    this.svg.classList.add('panning');
    const move = (m: PointerEvent) => {
      this.onUserMove();
      this.set({ ...start.t, x: start.t.x + m.clientX - start.x, y: start.t.y + m.clientY - start.y });
    };
    const up = () => {
      this.svg.classList.remove('panning');
      this.svg.removeEventListener('pointermove', move);
      this.svg.removeEventListener('pointerup', up);
      this.svg.removeEventListener('pointercancel', up);
    };
    this.svg.addEventListener('pointermove', move);
    this.svg.addEventListener('pointerup', up);
    this.svg.addEventListener('pointercancel', up);
  }
}
