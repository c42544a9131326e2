/**
 * The Paths view: one exec (attach, port-forward) that decode linked across
 * its hops, one row per hop stacked outermost first on one time axis (each
 * capture file's clock corrected to the reference clock), with the links
 * between the rows. A byte is followed down the path by its stream offset:
 * each hop's data marks know the offsets they cover, so the mark holding the
 * same offset is found at every hop and the marks are joined by a line.
 */
import type { Mark, ReportClockOffset, ReportPath, ReportPathHop, ReportPathLink, ReportSession } from '../model.js';
import { el, formatBytes, formatDuration } from './format.js';
import { svg } from './svg.js';
import { TimeAxis } from './time-axis.js';

const LABEL_W = 230;
const ROW_H = 64;
const LINK_H = 40;
const AXIS_H = 22;
const BIN = 3;

export const HOP_NAME: Record<string, string> = {
  'client-apiserver': 'kubectl → API server',
  'apiserver-kubelet': 'API server → kubelet',
  'kubelet-runtime': 'kubelet → container runtime',
};

const TRANSPORT_NAME: Record<string, string> = { websocket: 'WebSocket', 'spdy/3.1': 'SPDY/3.1', 'websocket+spdy/3.1': 'SPDY/3.1 inside WebSocket' };

type Dir = 0 | 1;
const WAY: Record<Dir, 'clientToServer' | 'serverToClient'> = { 0: 'clientToServer', 1: 'serverToClient' };
const ARROW: Record<Dir, string> = { 0: 'client → server', 1: 'server → client' };

/** A stream direction of the path: `stdin` c→s, `stdout` s→c, port-forward data either way. */
interface Flow {
  stream: string;
  d: Dir;
}

/** A hop's data mark with its place on the path's axis. */
interface HopMark {
  stream: string;
  d: Dir;
  m: Mark;
  /** Start and end on the path's axis (µs). */
  t0: number;
  t1: number;
}

/** What is drawn as one shape: neighbouring marks of one stream direction. */
interface Shape {
  hop: number;
  marks: HopMark[];
  el: SVGElement;
  y: number;
}

/** The byte being followed. */
interface Followed extends Flow {
  offset: number;
}

export function flowText(f: Flow): string {
  return f.stream.startsWith('data') ? `${f.stream} ${ARROW[f.d]}` : f.stream;
}

/** As flowText, with the direction as c→s or s→c (the link's line is narrow). */
function shortFlow(f: Flow): string {
  return f.stream.startsWith('data') ? `${f.stream} ${f.d === 0 ? 'c→s' : 's→c'}` : f.stream;
}

const covers = (m: Mark, offset: number) => m.o !== undefined && m.n !== undefined && m.o <= offset && offset < m.o + m.n;

export class PathView {
  private readonly axis: TimeAxis;
  private readonly marks: HopMark[][];
  private readonly maxBytes: number;
  private shapes: Shape[] = [];
  private followed: Followed | null = null;
  /** Told which byte is followed (the controls show it). */
  onFollowed: ((f: Flow & { offset: number }) => void) | null = null;

  constructor(
    private readonly host: HTMLElement,
    private readonly path: ReportPath,
    sessions: Map<number, ReportSession>,
    private readonly onOpen: (session: number) => void,
    private readonly onFollow: (text: Array<Node | string>) => void,
  ) {
    this.axis = new TimeAxis(host, path.durationUs, LABEL_W, () => this.render(), (e) => this.click(e));
    this.marks = path.hops.map((h) => hopMarks(h, h.session !== null ? sessions.get(h.session) : undefined));
    let max = 1;
    for (const row of this.marks) for (const x of row) max = Math.max(max, x.m.n ?? 0);
    this.maxBytes = max;
  }

  /** The path's stream directions that carried bytes, in the order a reader expects them. */
  flows(): Flow[] {
    const seen = new Map<string, Flow>();
    for (const h of this.path.hops)
      for (const s of h.streams) if (s.bytes > 0) seen.set(`${s.stream}/${s.direction}`, { stream: s.stream, d: s.direction === 'clientToServer' ? 0 : 1 });
    return [...seen.values()];
  }

  zoom(factor: number): void {
    this.axis.zoom(factor);
  }

  reset(): void {
    this.axis.reset();
  }

  /** A data mark follows its first byte down the path; elsewhere on a hop's row opens that hop's session. */
  private click(e: MouseEvent): void {
    const target = e.target as Element;
    const mark = target.closest('[data-shape]');
    if (mark) {
      const first = this.shapes[Number(mark.getAttribute('data-shape'))]?.marks[0];
      if (first?.m.o !== undefined) this.follow({ stream: first.stream, d: first.d, offset: first.m.o });
      return;
    }
    const row = target.closest('[data-open]');
    if (row) this.onOpen(Number(row.getAttribute('data-open')));
  }

  /** Follow one byte of a stream direction: highlight where it is at every hop and join the places. */
  follow(f: Followed): void {
    this.followed = f;
    this.onFollowed?.(f);
    this.render();
  }

  render(): void {
    const n = this.path.hops.length;
    const w = this.axis.right;
    const h = AXIS_H + n * ROW_H + (n - 1) * LINK_H;
    const root = svg('svg', { width: w, height: h, role: 'img', 'aria-label': `path ${this.path.path}: its hops on one time axis` });
    this.shapes = [];
    root.append(this.axis.ticks(h, AXIS_H));
    this.path.hops.forEach((hop, i) => {
      const top = AXIS_H + i * (ROW_H + LINK_H);
      root.append(this.row(hop, i, top));
      const link = this.path.links[i];
      if (link) root.append(this.link(link, top + ROW_H));
    });
    const overlay = this.followed ? this.followLine(this.followed) : null;
    if (overlay) root.append(overlay);
    this.host.replaceChildren(root);
  }

  private row(hop: ReportPathHop, i: number, top: number): SVGGElement {
    const open: Record<string, number> = hop.session !== null ? { 'data-open': hop.session } : {};
    const g = svg('g', { class: 'hop-row', 'data-hop': i, 'data-name': hop.hop, 'data-transport': hop.transport, 'data-protocol': hop.protocol ?? '', ...open });
    const mid = top + ROW_H / 2;
    const half = ROW_H / 2 - 4;
    const right = this.axis.right;
    g.append(svg('rect', { class: 'hop-bg', x: 0, y: top, width: right, height: ROW_H }));
    g.append(svg('line', { class: 'mid', x1: LABEL_W, x2: right, y1: mid, y2: mid }));
    const label = (text: string, y: number, cls: string) => {
      const t = svg('text', { x: 6, y, class: cls });
      t.textContent = text;
      g.append(t);
    };
    label(`${i + 1}  ${HOP_NAME[hop.hop] ?? hop.hop}`, top + 15, 'hop-name');
    label(TRANSPORT_NAME[hop.transport] ?? hop.transport, top + 28, 'hop-transport');
    label(hop.protocol ?? '(protocol unknown)', top + 41, 'hop-proto');
    label(
      `${hop.session !== null ? `session ${hop.session}` : 'session not in this report'}${hop.setupUs !== null ? ` · set-up ${formatDuration(hop.setupUs)}` : ''}`,
      top + 55,
      'hop-sub',
    );
    const title = svg('title', {});
    title.textContent = `${hop.client} → ${hop.server}${hop.session !== null ? '. Click to open this session' : ''}`;
    g.append(title);

    // The set-up (request → 101) and the session's life, under the marks.
    const clip = (t: number) => this.axis.clampedX(t);
    if (hop.requestUs !== null && hop.upgradeUs !== null) {
      const x0 = clip(hop.requestUs);
      const r = svg('rect', { class: 'setup', x: x0, y: top + 6, width: Math.max(1, clip(hop.upgradeUs) - x0), height: ROW_H - 12 });
      const tt = svg('title', {});
      tt.textContent = `set-up: the request to the 101 Switching Protocols took ${formatDuration(hop.setupUs ?? hop.upgradeUs - hop.requestUs)}`;
      r.append(tt);
      g.append(r);
    }
    const end = hop.endUs ?? this.path.durationUs;
    g.append(svg('line', { class: 'life', x1: clip(hop.startUs), x2: clip(end), y1: mid, y2: mid }));
    for (const s of hop.stalls) {
      const t1 = s.stalledUs !== null ? s.sinceUs + s.stalledUs : end;
      if (!this.axis.shows(s.sinceUs, t1)) continue;
      const x0 = clip(s.sinceUs);
      const r = svg('rect', { class: 'stall', x: x0, y: s.direction === 'clientToServer' ? mid - half : mid, width: Math.max(2, clip(t1) - x0), height: half });
      const tt = svg('title', {});
      tt.textContent = `flow-control stall on stream ${s.streamId}: window at zero ${s.stalledUs !== null ? `for ${formatDuration(s.stalledUs)}` : 'and never reopened'}`;
      r.append(tt);
      g.append(r);
    }
    g.append(...this.dataShapes(i, mid, half));
    if (hop.exit && hop.exit.timeUs !== null && this.axis.shows(hop.exit.timeUs, hop.exit.timeUs)) {
      const x = this.axis.x(hop.exit.timeUs);
      const e = svg('g', { class: 'exit-flag' });
      e.append(svg('line', { x1: x, x2: x, y1: mid - half, y2: mid + half }));
      // Near the right edge the label goes left of the flag.
      const t = x > right - 50 ? svg('text', { x: x - 3, y: mid + half - 2, 'text-anchor': 'end' }) : svg('text', { x: x + 3, y: mid + half - 2 });
      t.textContent = `exit ${hop.exit.code ?? hop.exit.status}`;
      const tt = svg('title', {});
      tt.textContent = `exit status ${hop.exit.status}${hop.exit.code !== null ? ` code ${hop.exit.code}` : ''}${hop.exit.message ? `: ${hop.exit.message}` : ''}`;
      e.append(t, tt);
      g.append(e);
    }
    const stops = this.path.stopped.filter((s) => s.hop === i);
    if (stops.length) {
      const t = svg('text', { class: 'stop', x: right - 4, y: top + 14, 'text-anchor': 'end' });
      t.textContent = stops.map(stopText).join('; ');
      g.append(t);
    }
    return g;
  }

  /** Data marks within BIN pixels of each other, of one stream direction, drawn as one shape; c→s above the line, s→c below. */
  private dataShapes(hop: number, mid: number, half: number): SVGElement[] {
    const out: SVGElement[] = [];
    const open = new Map<string, { marks: HopMark[]; x0: number; x1: number; bytes: number }>();
    const flush = (key: string) => {
      const b = open.get(key);
      if (!b) return;
      open.delete(key);
      const first = b.marks[0]!;
      const last = b.marks[b.marks.length - 1]!;
      const hgt = Math.min(half, Math.max(2, half * Math.sqrt(b.bytes / this.maxBytes)));
      const y = first.d === 0 ? mid - hgt : mid;
      const idx = this.shapes.length;
      const role = first.stream.startsWith('data') ? 'data' : first.stream;
      const e = svg('rect', {
        class: `mark data ${first.d === 0 ? 'c2s' : 's2c'} role-${role}`,
        x: b.x0,
        y,
        width: Math.max(3, b.x1 - b.x0),
        height: hgt,
        'data-shape': idx,
        'data-hop': hop,
        'data-stream': first.stream,
        'data-dir': first.d,
        'data-o0': first.m.o ?? 0,
        'data-o1': (last.m.o ?? 0) + (last.m.n ?? 0),
      });
      const tt = svg('title', {});
      tt.textContent = `${flowText(first)}: ${formatBytes(b.bytes)} at stream offset ${first.m.o ?? 0}. Click to follow this byte down the path`;
      e.append(tt);
      this.shapes.push({ hop, marks: b.marks, el: e, y: first.d === 0 ? mid - hgt / 2 : mid + hgt / 2 });
      out.push(e);
    };
    for (const hm of this.marks[hop]!) {
      if (!this.axis.shows(hm.t0, hm.t1)) continue;
      const x0 = this.axis.clampedX(hm.t0);
      const x1 = this.axis.clampedX(hm.t1);
      const key = `${hm.stream}/${hm.d}`;
      const cur = open.get(key);
      if (cur && x0 - cur.x1 < BIN) {
        cur.marks.push(hm);
        cur.x1 = Math.max(cur.x1, x1);
        cur.bytes += hm.m.n ?? 0;
        continue;
      }
      flush(key);
      open.set(key, { marks: [hm], x0, x1, bytes: hm.m.n ?? 0 });
    }
    for (const key of [...open.keys()]) flush(key);
    return out;
  }

  private link(l: ReportPathLink, top: number): SVGGElement {
    const g = svg('g', { class: `link ${l.confidence}`, 'data-confidence': l.confidence, 'data-partial': String(l.partial), 'data-ambiguous': String(l.ambiguous) });
    const x = LABEL_W + 6;
    g.append(svg('line', { class: 'link-arrow', x1: LABEL_W / 2, x2: LABEL_W / 2, y1: top + 4, y2: top + LINK_H - 4 }));
    const first = svg('text', { x, y: top + 16, class: 'link-head' });
    const flags = [l.partial ? 'partial: only a prefix of a stream matched' : '', l.ambiguous ? `ambiguous: ${l.alternatives.length} other session(s) matched as well` : '']
      .filter(Boolean)
      .join(' · ');
    first.textContent = `same ${this.path.kind}, ${l.confidence} confidence (${l.evidence.join(', ')})${flags ? ` · ${flags}` : ''}`;
    const second = svg('text', { x, y: top + 31, class: 'link-delay' });
    const delays = l.delays.map((d) => `${shortFlow({ stream: d.stream, d: d.direction === 'clientToServer' ? 0 : 1 })} +${formatDuration(d.p50Us)} p50 / ${formatDuration(d.p99Us)} p99 / ${formatDuration(d.maxUs)} max`);
    if (l.exitTravelUs !== null) delays.push(`exit status ${formatDuration(l.exitTravelUs)}`);
    second.textContent = delays.length ? `delay from one hop to the other: ${delays.join(' · ')}` : 'no delay measured (no bytes matched by offset)';
    const why = svg('title', {});
    why.textContent = l.why;
    g.append(first, second, why);
    return g;
  }

  /** Where the followed byte is at each hop: its marks highlighted and joined, and the times said in words. */
  private followLine(f: Followed): SVGGElement | null {
    const points: Array<{ hop: number; x: number; y: number; t: number; approx: boolean }> = [];
    const said: Array<Node | string> = [];
    for (const s of this.shapes) {
      const hm = s.marks.find((x) => x.stream === f.stream && x.d === f.d && covers(x.m, f.offset));
      if (!hm) continue;
      s.el.classList.add('followed');
      // Where in a merged mark the byte was is not known: placed by its share of the mark's bytes.
      const approx = (hm.m.c ?? 1) > 1;
      const t = approx ? hm.t0 + ((hm.t1 - hm.t0) * (f.offset - hm.m.o!)) / Math.max(1, hm.m.n!) : hm.t0;
      points.push({ hop: s.hop, x: this.axis.clampedX(t), y: s.y, t, approx });
    }
    // Marks out of view still give the byte's time at their hop.
    const times = this.path.hops.map((_, i) => {
      const on = points.find((p) => p.hop === i);
      if (on) return on;
      const hm = this.marks[i]!.find((x) => x.stream === f.stream && x.d === f.d && covers(x.m, f.offset));
      if (!hm) return null;
      const approx = (hm.m.c ?? 1) > 1;
      return { hop: i, x: NaN, y: NaN, t: approx ? hm.t0 + ((hm.t1 - hm.t0) * (f.offset - hm.m.o!)) / Math.max(1, hm.m.n!) : hm.t0, approx };
    });
    said.push(el('strong', {}, `${flowText(f)} byte ${f.offset}`), `: `);
    // In the order the byte travelled: c→s from the client inwards, s→c from the runtime outwards.
    const order = this.path.hops.map((_, i) => i);
    if (f.d === 1) order.reverse();
    let prev: { t: number } | null = null;
    order.forEach((i, k) => {
      const p = times[i];
      const name = `hop ${i + 1} (${HOP_NAME[this.path.hops[i]!.hop] ?? this.path.hops[i]!.hop})`;
      const text = p
        ? `${name} at ${p.approx ? '≈' : ''}+${formatDuration(p.t)}${prev ? ` (${formatDuration(Math.abs(p.t - prev.t))} ${p.t >= prev.t ? 'later' : 'earlier'})` : ''}`
        : `${name}: not seen (${this.path.hops[i]!.streams.find((s) => s.stream === f.stream && s.direction === WAY[f.d])?.bytes ?? 0} bytes of this stream there${this.marks[i]!.length ? '' : ', or its marks are not in this report'})`;
      said.push(el('span', { class: p ? 'follow-hop' : 'follow-hop missing', 'data-hop': String(i) }, text), k < order.length - 1 ? ' → ' : '.');
      if (p) prev = p;
    });
    if (times.some((p) => p?.approx)) said.push(' ≈: inside a mark that stands for several events, placed by its share of their bytes.');
    this.onFollow(said);
    if (points.length === 0) return null;
    const g = svg('g', { class: 'follow' });
    points.sort((a, b) => a.hop - b.hop);
    if (points.length > 1) g.append(svg('polyline', { points: points.map((p) => `${p.x},${p.y}`).join(' ') }));
    for (const p of points) g.append(svg('circle', { cx: p.x, cy: p.y, r: 4 }));
    return g;
  }
}

function hopMarks(hop: ReportPathHop, s: ReportSession | undefined): HopMark[] {
  if (!s) return [];
  const out: HopMark[] = [];
  for (const [stream, key] of Object.entries(hop.lanes)) {
    const lane = s.lanes.find((l) => l.key === key);
    if (!lane) continue;
    for (const m of lane.marks) {
      if (m.k !== 'data' || m.d === -1) continue;
      out.push({ stream, d: m.d, m, t0: hop.startUs + m.t, t1: hop.startUs + (m.t1 ?? m.t) });
    }
  }
  return out.sort((a, b) => a.t0 - b.t0);
}

export function stopText(s: ReportPath['stopped'][number]): string {
  const what = flowText({ stream: s.stream, d: s.direction === 'clientToServer' ? 0 : 1 });
  return s.why === 'short'
    ? s.captureGaps > 0
      ? `${what} short here: ${formatBytes(s.bytes)} of ${formatBytes(s.previousBytes ?? 0)} (this capture lost bytes here: ${s.captureGaps} gap${s.captureGaps === 1 ? '' : 's'})`
      : `${what} stopped here: ${formatBytes(s.bytes)} of ${formatBytes(s.previousBytes ?? 0)}${s.captureEnded ? ' (this capture ended there)' : ''}`
    : `${what}: flow-control window at zero here ${s.stalledUs !== null ? `for ${formatDuration(s.stalledUs)}` : 'and never reopened'}`;
}

/** The clocks the path's times were put on, in words. */
export function clockText(path: ReportPath, offsets: ReportClockOffset[]): string {
  const files = [...new Set(path.hops.map((h) => h.file))];
  if (files.length < 2) return `All hops are from one capture (${files[0] ?? '?'}), on one clock.`;
  const parts = files.map((f) => {
    const o = offsets.find((x) => x.file === f);
    if (!o || o.file === o.reference) return `${f} is the reference clock`;
    if (o.offsetUs === null) return `${f}'s clock is not tied to ${o.reference} (its times are shown as they are)`;
    return `${f}'s clock runs ${formatDuration(Math.abs(o.offsetUs))} ${o.offsetUs >= 0 ? 'ahead of' : 'behind'} ${o.reference} (± ${formatDuration(o.uncertaintyUs ?? 0)}; corrected)`;
  });
  return `Times from ${files.length} capture files, put on one clock: ${parts.join('; ')}.`;
}
