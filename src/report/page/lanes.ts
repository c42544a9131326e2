/**
 * A session's streams on one time axis, as SVG: a lane per stream (and one
 * for the session's own events), client → server marks above the lane's
 * middle line and server → client below, data marks as tall as the square
 * root of their bytes. Marks closer than BIN pixels are drawn as one, so the
 * page draws at most a few hundred shapes per lane at any zoom; zooming in
 * separates them again.
 */
import type { Lane, Mark, ReportSession } from '../model.js';
import { formatBytes } from './format.js';
import { MARK_STYLE } from './marks.js';
import { svg } from './svg.js';
import { TimeAxis } from './time-axis.js';

const LABEL_W = 170;
const LANE_H = 46;
const AXIS_H = 22;
const BIN = 3;

export interface Pick {
  lane: Lane;
  /** The marks drawn as the clicked shape, in time order. */
  marks: Mark[];
}

export class LaneView {
  private readonly axis: TimeAxis;
  private readonly maxBytes: number;
  private picks: Pick[] = [];
  private selected: string | null = null;

  constructor(
    private readonly host: HTMLElement,
    private readonly session: ReportSession,
    private readonly onPick: (p: Pick) => void,
  ) {
    this.axis = new TimeAxis(host, session.durationUs, LABEL_W, () => this.render(), (e) => this.pick(e));
    let max = 1;
    for (const l of session.lanes) for (const m of l.marks) if (m.k === 'data' && (m.n ?? 0) > max) max = m.n!;
    this.maxBytes = max;
  }

  zoom(factor: number): void {
    this.axis.zoom(factor);
  }

  reset(): void {
    this.axis.reset();
  }

  private pick(e: MouseEvent): void {
    const target = (e.target as Element).closest('[data-pick]');
    if (!target) return;
    const p = this.picks[Number(target.getAttribute('data-pick'))];
    if (!p) return;
    this.selected = `${p.lane.key}/${p.marks[0]!.t}/${p.marks[0]!.k}/${p.marks[0]!.d}`;
    this.host.querySelectorAll('.selected').forEach((s) => s.classList.remove('selected'));
    target.classList.add('selected');
    this.onPick(p);
  }

  render(): void {
    const w = this.axis.right;
    const h = AXIS_H + this.session.lanes.length * LANE_H;
    const root = svg('svg', { width: w, height: h, role: 'img', 'aria-label': 'streams on a time axis' });
    this.picks = [];
    root.append(this.axis.ticks(h, AXIS_H));
    this.session.lanes.forEach((lane, i) => root.append(this.lane(lane, AXIS_H + i * LANE_H)));
    this.host.replaceChildren(root);
  }

  private lane(lane: Lane, top: number): SVGGElement {
    const g = svg('g', { class: 'lane', 'data-lane': lane.key, 'data-role': lane.role });
    const mid = top + LANE_H / 2;
    const half = LANE_H / 2 - 3;
    g.append(svg('rect', { class: 'lane-bg', x: LABEL_W, y: top + 1, width: this.axis.plotW, height: LANE_H - 2 }));
    g.append(svg('line', { class: 'mid', x1: LABEL_W, x2: this.axis.right, y1: mid, y2: mid }));
    const label = svg('text', { x: 4, y: mid - 2 });
    label.textContent = lane.label;
    const sub = svg('text', { x: 4, y: mid + 11, fill: '#888' });
    const st = this.session.summary.streams.find((x) => x.id === lane.streamId);
    sub.textContent = lane.key === 'session' ? 'pings, GOAWAY, gaps, end' : st ? `↑ c→s ${formatBytes(st.clientToServer.bytes)}  ↓ s→c ${formatBytes(st.serverToClient.bytes)}` : '';
    sub.setAttribute('style', 'font-size:9px;fill:#888');
    g.append(label, sub);

    // Marks of one shape, direction and kind within BIN pixels of each other become one shape.
    const open = new Map<string, { pick: Pick; x0: number; x1: number; bytes: number }>();
    // Data drawn last, over the flags, so that a flag never hides the bytes.
    const flags: SVGElement[] = [];
    const data: SVGElement[] = [];
    const flush = (key: string) => {
      const b = open.get(key);
      if (!b) return;
      open.delete(key);
      (b.pick.marks[0]!.k === 'data' ? data : flags).push(this.shape(b.pick, b.x0, b.x1, b.bytes, mid, half));
    };
    for (const m of lane.marks) {
      const end = m.t1 ?? m.t;
      if (!this.axis.shows(m.t, end)) continue;
      const x0 = this.axis.clampedX(m.t);
      const x1 = this.axis.clampedX(end);
      const key = `${m.k}/${m.d}`;
      const cur = open.get(key);
      if (cur && x0 - cur.x1 < BIN) {
        cur.pick.marks.push(m);
        cur.x1 = Math.max(cur.x1, x1);
        cur.bytes += m.n ?? 0;
        continue;
      }
      flush(key);
      open.set(key, { pick: { lane, marks: [m] }, x0, x1, bytes: m.n ?? 0 });
    }
    for (const key of [...open.keys()]) flush(key);
    g.append(...flags, ...data);
    return g;
  }

  private shape(pick: Pick, x0: number, x1: number, bytes: number, mid: number, half: number): SVGElement {
    const first = pick.marks[0]!;
    const idx = this.picks.push(pick) - 1;
    const dirClass = first.d === 0 ? 'c2s' : first.d === 1 ? 's2c' : 'none';
    const attrs = { class: `mark ${first.k} ${dirClass}`, 'data-pick': idx, 'data-kind': first.k, 'data-count': pick.marks.length };
    let e: SVGElement;
    const color = MARK_STYLE[first.k].color;
    const width = Math.max(3, x1 - x0);
    if (first.k === 'data') {
      const hgt = Math.min(half, Math.max(2, half * Math.sqrt(bytes / this.maxBytes)));
      e = svg('rect', { ...attrs, x: x0, width, y: first.d === 0 ? mid - hgt : mid, height: hgt });
    } else if (first.k === 'stall' || first.k === 'gap') {
      e = svg('rect', { ...attrs, x: x0, width, y: first.d === 0 ? mid - half : mid, height: half, fill: color, 'fill-opacity': first.k === 'stall' ? 0.35 : 0.8 });
    } else if (first.k === 'ping') {
      e = svg('circle', { ...attrs, cx: x0, cy: first.d === 0 ? mid - half / 2 : mid + half / 2, r: 3, fill: color });
    } else {
      // A flag: a line across the lane with a triangle on the sender's side.
      e = svg('g', attrs);
      const y = first.d === 1 ? mid + half : mid - half;
      e.append(svg('line', { x1: x0, x2: x0, y1: mid - half, y2: mid + half, stroke: color, 'stroke-width': 2 }));
      const s = first.d === 1 ? -4 : 4;
      e.append(svg('path', { d: `M${x0},${y} l6,${s} l-6,${s}z`, fill: color }));
      e.append(svg('rect', { x: x0 - 3, y: mid - half, width: 9, height: 2 * half, fill: 'transparent' }));
    }
    const key = `${pick.lane.key}/${first.t}/${first.k}/${first.d}`;
    if (key === this.selected) e.classList.add('selected');
    const title = svg('title', {});
    title.textContent = pick.marks.length === 1 ? first.x ?? `${first.n} bytes` : `${pick.marks.length} marks, ${bytes} bytes`;
    e.append(title);
    return e;
  }
}
