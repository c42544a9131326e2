/**
 * Terminal replay with xterm.js: the session's output written into a real
 * terminal emulator at the pace the capture recorded, with the client's
 * resizes. A TTY session replays stdout as the terminal received it; other
 * sessions replay as --follow shows them (stdin green, stderr red, newlines
 * as line breaks).
 */
import { Terminal } from '@xterm/xterm';
import type { Replay } from '../model.js';
import { byId, formatBytes, fromBase64 } from './format.js';

type Step = { t: number; write?: Uint8Array; resize?: [number, number] };

/** Output drawn at once when the page opens; more waits for play or seek (xterm parses some MB/s). */
const QUICK_BYTES = 256 * 1024;

const GREEN = new TextEncoder().encode('\x1b[32m');
const RED = new TextEncoder().encode('\x1b[31m');
const PLAIN = new TextEncoder().encode('\x1b[39m');

function steps(r: Replay): Step[] {
  const out: Step[] = [];
  for (const [t, stream, b64] of r.chunks) {
    let bytes = fromBase64(b64);
    const paint = r.tty ? null : stream === 0 ? GREEN : stream === 2 ? RED : null;
    if (paint) bytes = new Uint8Array([...paint, ...bytes, ...PLAIN]);
    out.push({ t, write: bytes });
  }
  // The first resize is the starting size.
  for (const [t, w, h] of r.resizes.slice(1)) out.push({ t, resize: [w, h] });
  // Stable: a resize at the same µs as output comes after it, as it did on the wire order here.
  return out.map((s, i) => [s, i] as const).sort((a, b) => a[0].t - b[0].t || a[1] - b[1]).map(([s]) => s);
}

export class Player {
  private term: Terminal | null = null;
  private readonly all: Step[];
  private readonly end: number;
  private pos = 0;
  private next = 0;
  private playing = false;
  private speed = 1;
  private lastFrame = 0;
  /** Bumped on every seek so that write callbacks of an earlier one are ignored. */
  private generation = 0;
  /** Bumped on every apply: the page says `ready` only for the latest. */
  private applied = 0;
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly replay: Replay) {
    this.all = steps(replay);
    this.end = this.all.length ? this.all[this.all.length - 1]!.t : 0;
  }

  private bytes(): number {
    return this.all.reduce((n, s) => n + (s.write?.length ?? 0), 0);
  }

  mount(): void {
    const host = byId('terminal');
    this.term?.dispose();
    host.replaceChildren();
    this.term = new Terminal({
      cols: this.replay.width,
      rows: this.replay.height,
      convertEol: !this.replay.tty,
      disableStdin: true,
      scrollback: 1000,
      fontSize: 13,
      // The output is the capture's: bytes a terminal cannot parse (a binary transfer) are not page errors.
      logLevel: 'off',
    });
    this.term.open(host);
    byId('replay-note').textContent =
      (this.replay.tty ? 'What the terminal showed (stdout, as the remote terminal sent it).' : 'No TTY: stdin (green), stdout and stderr (red) as --follow shows them.') +
      (this.replay.omittedBytes > 0 ? ` The replay stops early: the last ${formatBytes(this.replay.omittedBytes)} of output did not fit in the report.` : '');
    const play = byId<HTMLButtonElement>('play');
    const seek = byId<HTMLInputElement>('seek');
    const speed = byId<HTMLSelectElement>('speed');
    play.onclick = () => (this.playing ? this.pause() : this.play());
    seek.oninput = () => this.seek((Number(seek.value) / Number(seek.max)) * this.end);
    speed.onchange = () => (this.speed = Number(speed.value));
    this.speed = Number(speed.value);
    // Open on the last screen, what the session left on the terminal, when that is quick to draw;
    // a long output (a bulk transfer) waits for play or seek.
    this.seek(this.bytes() <= QUICK_BYTES ? this.end : 0);
  }

  play(): void {
    if (this.pos >= this.end) this.seek(0);
    this.playing = true;
    this.lastFrame = performance.now();
    byId('play').textContent = '❚❚ pause';
    requestAnimationFrame((t) => this.frame(t));
  }

  pause(): void {
    this.playing = false;
    byId('play').textContent = '▶ play';
  }

  private frame(now: number): void {
    if (!this.playing) return;
    this.pos = Math.min(this.end, this.pos + (now - this.lastFrame) * 1000 * this.speed);
    this.lastFrame = now;
    this.apply(this.generation);
    if (this.pos >= this.end) this.pause();
    else requestAnimationFrame((t) => this.frame(t));
  }

  /** Start over and apply every step up to `to` µs at once. */
  seek(to: number): void {
    if (!this.term) return;
    const term = this.term;
    const generation = ++this.generation;
    this.queue(generation, () => {
      term.reset();
      term.resize(this.replay.width, this.replay.height);
    });
    this.next = 0;
    this.pos = Math.max(0, Math.min(this.end, to));
    this.apply(generation);
  }

  /**
   * Terminal operations run one after the other: xterm parses writes later,
   * and a resize or reset must come after the output written before it, so
   * each waits for the previous write to be parsed. A seek abandons the queue
   * of the one before.
   */
  private queue(generation: number, op: () => void | Promise<void>): void {
    this.pending = this.pending.then(() => (generation === this.generation ? op() : undefined));
  }

  private write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) => this.term!.write(bytes, resolve));
  }

  private apply(generation: number): void {
    const term = this.term!;
    const host = byId('terminal');
    host.dataset.ready = '0';
    while (this.next < this.all.length && this.all[this.next]!.t <= this.pos) {
      const s = this.all[this.next++]!;
      const { write, resize } = s;
      if (write) this.queue(generation, () => this.write(write));
      if (resize) this.queue(generation, () => term.resize(resize[0], resize[1]));
    }
    // Say when this position is on screen (xterm draws on the next animation frame); only the latest counts.
    const at = this.pos;
    const seq = ++this.applied;
    this.queue(generation, () => {
      requestAnimationFrame(() =>
        requestAnimationFrame(() => {
          if (generation !== this.generation || seq !== this.applied) return;
          host.dataset.ready = '1';
          host.dataset.position = String(at);
          host.dataset.end = String(this.end);
        }),
      );
    });
    byId('clock').textContent = `${(this.pos / 1e6).toFixed(3)} s / ${(this.end / 1e6).toFixed(3)} s`;
    const seek = byId<HTMLInputElement>('seek');
    seek.value = String(this.end > 0 ? Math.round((this.pos / this.end) * Number(seek.max)) : 0);
  }
}
