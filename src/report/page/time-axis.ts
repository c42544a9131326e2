/**
 * The visible window of a time axis that both drawings of the page share
 * (a session's lanes, a path's hops): which µs range is shown, how a time
 * maps to an x, zooming about a point, panning by dragging, and the tick
 * marks along the top. It owns the wheel and drag listeners on its host, so
 * a click after a drag is not taken for a pick: the owner's click handler
 * is called only for clicks that did not move the view.
 */
import { formatDuration } from './format.js';
import { svg, tickStep } from './svg.js';

/** Narrowest window a zoom goes to (µs). */
const MIN_SPAN_US = 20;
/** Pixels a press may move and still count as a click. */
const CLICK_SLOP = 3;

export class TimeAxis {
  /** The window shown, µs from the drawing's start. */
  v0 = 0;
  v1: number;
  /** The whole drawing, with a little room after its end. */
  private readonly full: number;

  constructor(
    private readonly host: HTMLElement,
    durationUs: number,
    /** Pixels left of the plot for the row labels. */
    readonly labelW: number,
    /** Draw again: the window changed. */
    private readonly redraw: () => void,
    /** A click that did not drag the view. */
    onClick: (e: MouseEvent) => void,
  ) {
    this.full = Math.max(durationUs * 1.02, 1000);
    this.v1 = this.full;
    this.listen(onClick);
  }

  get plotW(): number {
    return Math.max(200, (this.host.clientWidth || 1000) - this.labelW);
  }

  /** Right edge of the plot (px). */
  get right(): number {
    return this.labelW + this.plotW;
  }

  x(t: number): number {
    return this.labelW + ((t - this.v0) / (this.v1 - this.v0)) * this.plotW;
  }

  /** x of `t`, held inside the plot. */
  clampedX(t: number): number {
    return Math.min(this.right, Math.max(this.labelW, this.x(t)));
  }

  /** Whether [t0, t1] overlaps the window. */
  shows(t0: number, t1: number): boolean {
    return t1 >= this.v0 && t0 <= this.v1;
  }

  zoom(factor: number, atX?: number): void {
    const span = this.v1 - this.v0;
    const anchor = atX === undefined ? this.v0 + span / 2 : this.v0 + ((atX - this.labelW) / this.plotW) * span;
    const next = Math.min(this.full, Math.max(MIN_SPAN_US, span / factor));
    const frac = (anchor - this.v0) / span;
    this.setView(anchor - frac * next, anchor - frac * next + next);
  }

  pan(dxPixels: number): void {
    const dt = (dxPixels / this.plotW) * (this.v1 - this.v0);
    this.setView(this.v0 - dt, this.v1 - dt);
  }

  reset(): void {
    this.setView(0, this.full);
  }

  /** Tick lines down to `height` and their time labels along the top (`axisH` px). */
  ticks(height: number, axisH: number): SVGGElement {
    const g = svg('g', { class: 'axis' });
    const step = tickStep(this.v1 - this.v0, 8);
    for (let t = Math.ceil(this.v0 / step) * step; t <= this.v1; t += step) {
      const x = this.x(t);
      g.append(svg('line', { x1: x, x2: x, y1: axisH - 4, y2: height, stroke: '#eee' }));
      const label = svg('text', { x: x + 2, y: 13 });
      label.textContent = formatDuration(t);
      g.append(label);
    }
    return g;
  }

  private setView(a: number, b: number): void {
    const span = b - a;
    if (a < 0) [a, b] = [0, span];
    if (b > this.full) [a, b] = [Math.max(0, this.full - span), this.full];
    this.v0 = a;
    this.v1 = b;
    this.redraw();
  }

  private listen(onClick: (e: MouseEvent) => void): void {
    this.host.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        const r = this.host.getBoundingClientRect();
        this.zoom(e.deltaY < 0 ? 1.25 : 0.8, e.clientX - r.left);
      },
      { passive: false },
    );
    let dragX: number | null = null;
    let moved = 0;
    this.host.addEventListener('mousedown', (e) => {
      dragX = e.clientX;
      moved = 0;
    });
    window.addEventListener('mousemove', (e) => {
      if (dragX === null) return;
      const dx = e.clientX - dragX;
      moved += Math.abs(dx);
      dragX = e.clientX;
      if (dx) this.pan(dx);
    });
    window.addEventListener('mouseup', () => (dragX = null));
    this.host.addEventListener('click', (e) => {
      if (moved > CLICK_SLOP) return;
      onClick(e);
    });
  }
}
