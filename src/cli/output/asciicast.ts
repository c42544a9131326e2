/**
 * `--asciicast DIR`: one asciicast v2 recording per TTY session (every exec
 * or attach with `--asciicast-all`), so that `asciinema play` replays what
 * the terminal showed, at the capture's pace.
 *
 * asciicast v2 is newline-delimited JSON: a header object (version 2, width,
 * height, timestamp, title), then `[seconds, code, data]` events: `o` output,
 * `i` input, `r` resize ("COLSxROWS"). The header's size is the first resize
 * the client sent (80×24 when none), so events wait in memory until that
 * resize, and are written from then on; a session that never resizes is
 * flushed with the default size once it buffered PENDING_LIMIT bytes.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { DecodeSummary, SessionStartEvent, TimelineEvent } from '../../timeline/index.js';
import type { EventFilter } from './filter.js';
import type { Output } from './types.js';

export interface AsciicastOptions {
  /** Also record sessions without a TTY. */
  all: boolean;
  /** Record stdin as `i` events. */
  stdin: boolean;
}

const DEFAULT_SIZE = { width: 80, height: 24 };
/** Bytes of events held back waiting for a first resize before the default size is taken. */
const PENDING_LIMIT = 1024 * 1024;
/** Written in pieces of about this size. */
const FLUSH_BYTES = 64 * 1024;

/** The title: namespace/pod (container) and the command, as far as known. */
export function asciicastTitle(s: Pick<SessionStartEvent, 'namespace' | 'pod' | 'container' | 'command' | 'sessionKind' | 'session'>): string {
  const where = s.pod ? `${s.namespace ? s.namespace + '/' : ''}${s.pod}${s.container ? ` (${s.container})` : ''}` : `session ${s.session}`;
  const what = s.command.length ? s.command.join(' ') : s.sessionKind;
  return `${where}: ${what}`;
}

class Recording {
  private readonly decoders = new Map<string, StringDecoder>();
  private pending: string[] | null = [];
  private pendingBytes = 0;
  private out: string[] = [];
  private outBytes = 0;
  private fd: number | null = null;
  private size: { width: number; height: number } | null = null;
  private lastSeconds = 0;
  /** A tentative recording that outgrew PENDING_LIMIT without showing a TTY. */
  private dropped = false;

  /**
   * @param tentative Not known to have a TTY yet (the runtime hop's URL does not
   * say; the streams tell later): held in memory, written only once a resize
   * shows the terminal, dropped if the session ends (or holds PENDING_LIMIT)
   * before that.
   */
  constructor(
    private readonly file: string,
    private readonly start: SessionStartEvent,
    private tentative: boolean,
  ) {}

  /** Seconds since the session start, never going back (capture clocks can step). */
  private seconds(timeUs: number): number {
    const s = Math.max(this.lastSeconds, (timeUs - this.start.time) / 1e6);
    this.lastSeconds = s;
    return s;
  }

  data(timeUs: number, code: 'o' | 'i', stream: string, bytes: Uint8Array): void {
    if (this.dropped) return;
    let dec = this.decoders.get(stream);
    if (!dec) this.decoders.set(stream, (dec = new StringDecoder('utf8')));
    // Streaming decode: a UTF-8 sequence split across two events stays whole.
    const text = dec.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    if (text) this.line(JSON.stringify([round(this.seconds(timeUs)), code, text]));
  }

  resize(timeUs: number, width: number, height: number): void {
    this.tentative = false;
    if (this.size === null) {
      this.size = { width, height };
      this.writeHeader();
      return;
    }
    this.line(JSON.stringify([round(this.seconds(timeUs)), 'r', `${width}x${height}`]));
  }

  private line(l: string): void {
    if (this.pending) {
      this.pending.push(l);
      this.pendingBytes += l.length;
      if (this.pendingBytes >= PENDING_LIMIT) {
        if (this.tentative) {
          this.dropped = true;
          this.pending = [];
          this.pendingBytes = 0;
          return;
        }
        this.size = DEFAULT_SIZE;
        this.writeHeader();
      }
      return;
    }
    this.write(l);
  }

  private writeHeader(): void {
    const size = this.size ?? DEFAULT_SIZE;
    const header = {
      version: 2,
      width: size.width,
      height: size.height,
      timestamp: Math.floor(this.start.time / 1e6),
      title: asciicastTitle(this.start),
      env: { TERM: 'xterm-256color' },
    };
    const held = this.pending ?? [];
    this.pending = null;
    this.write(JSON.stringify(header));
    for (const l of held) this.write(l);
  }

  private write(l: string): void {
    this.out.push(l, '\n');
    this.outBytes += l.length + 1;
    if (this.outBytes >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.out.length === 0) return;
    if (this.fd === null) this.fd = openSync(this.file, 'w');
    const buf = Buffer.from(this.out.join(''), 'utf8');
    this.out = [];
    this.outBytes = 0;
    let done = 0;
    while (done < buf.length) done += writeSync(this.fd, buf, done, buf.length - done);
  }

  end(): void {
    if (this.tentative) return;
    for (const [stream, dec] of this.decoders) {
      const rest = dec.end();
      if (rest) this.line(JSON.stringify([round(this.lastSeconds), stream === 'stdin' ? 'i' : 'o', rest]));
    }
    this.decoders.clear();
    if (this.pending) this.writeHeader();
    this.flush();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Microsecond precision, as the capture has. */
function round(s: number): number {
  return Math.round(s * 1e6) / 1e6;
}

export function createAsciicastOutput(dir: string, opts: AsciicastOptions, filter: EventFilter): Output {
  mkdirSync(dir, { recursive: true });
  const recordings = new Map<number, Recording>();
  return {
    event(ev: TimelineEvent) {
      if (!filter.keep(ev)) return;
      switch (ev.kind) {
        case 'session-start':
          if (ev.sessionKind === 'exec' || ev.sessionKind === 'attach' || ev.sessionKind === 'unknown') {
            // On the runtime hop the URL says nothing of a TTY: wait for a resize to show one.
            const tentative = !ev.tty && !opts.all && ev.hop === 'kubelet-runtime';
            if (ev.tty || opts.all || tentative) recordings.set(ev.session, new Recording(join(dir, `session${ev.session}.cast`), ev, tentative));
          }
          return;
        case 'stream-data': {
          const r = recordings.get(ev.session);
          if (!r) return;
          if (ev.role === 'stdout' || ev.role === 'stderr') r.data(ev.time, 'o', ev.role, ev.bytes);
          else if (ev.role === 'stdin' && opts.stdin) r.data(ev.time, 'i', 'stdin', ev.bytes);
          return;
        }
        case 'resize':
          recordings.get(ev.session)?.resize(ev.time, ev.width, ev.height);
          return;
        case 'session-end': {
          const r = recordings.get(ev.session);
          if (!r) return;
          r.end();
          recordings.delete(ev.session);
          return;
        }
        default:
          return;
      }
    },
    async finish(_summary: DecodeSummary) {
      for (const r of recordings.values()) r.end();
      recordings.clear();
    },
  };
}
