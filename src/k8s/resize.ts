/**
 * Terminal resize messages: a stream of JSON objects `{"Width":W,"Height":H}`,
 * each written by Go's json.Encoder (so followed by "\n"). The server reads
 * them with a streaming json.Decoder: any whitespace between objects, field
 * names matched case-insensitively, values uint16.
 */
import { KubewireError } from '../common/errors.js';
import type { Direction, ErrorMode } from '../common/errors.js';

export interface TerminalSize {
  width: number;
  height: number;
}

export type ResizeEvent = ({ kind: 'resize' } & TerminalSize) | { kind: 'diagnostic'; error: KubewireError };

/** `{"Width":W,"Height":H}\n` */
export function encodeResize(size: TerminalSize): Uint8Array {
  for (const v of [size.width, size.height]) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`terminal dimension ${v} is not a uint16`);
  }
  return new TextEncoder().encode(`{"Width":${size.width},"Height":${size.height}}\n`);
}

/** Streaming decoder: bytes of the resize stream/channel in any pieces. */
export class ResizeDecoder {
  private text = '';
  private readonly strict: boolean;
  private readonly utf8 = new TextDecoder('utf-8');

  constructor(
    private readonly opts: { mode?: ErrorMode; direction?: Direction; maxBuffered?: number; streamId?: number; channel?: number } = {},
  ) {
    this.strict = (opts.mode ?? 'strict') === 'strict';
  }

  push(bytes: Uint8Array, offset?: number): ResizeEvent[] {
    const out: ResizeEvent[] = [];
    this.text += this.utf8.decode(bytes, { stream: true });
    for (;;) {
      const start = this.text.search(/\S/);
      if (start < 0) {
        this.text = '';
        break;
      }
      if (this.text[start] !== '{') {
        // Not an object: drop up to the next '{' and say so.
        const next = this.text.indexOf('{', start);
        this.report(out, 'K8S_RESIZE_INVALID', 'resize stream holds something other than a JSON object', offset);
        this.text = next < 0 ? '' : this.text.slice(next);
        if (next < 0) break;
        continue;
      }
      const end = objectEnd(this.text, start);
      if (end < 0) {
        if (this.text.length > (this.opts.maxBuffered ?? 4096)) {
          this.report(out, 'K8S_RESIZE_TOO_LONG', 'unterminated resize message', offset);
          this.text = '';
        }
        break;
      }
      const json = this.text.slice(start, end);
      this.text = this.text.slice(end);
      const size = parseSize(json);
      if (size === null) this.report(out, 'K8S_RESIZE_INVALID', `not a terminal size: ${json.slice(0, 80)}`, offset);
      else out.push({ kind: 'resize', ...size });
    }
    return out;
  }

  private report(out: ResizeEvent[], code: string, message: string, offset: number | undefined): void {
    const error = new KubewireError('k8s', code, 'stream', message, {
      offset,
      direction: this.opts.direction,
      streamId: this.opts.streamId,
      channel: this.opts.channel,
    });
    if (this.strict) throw error;
    out.push({ kind: 'diagnostic', error });
  }
}

/** Index just past the object starting at `start`, or -1 if incomplete. */
function objectEnd(s: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

function parseSize(json: string): TerminalSize | null {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  let width = 0;
  let height = 0;
  for (const [k, val] of Object.entries(v)) {
    const key = k.toLowerCase();
    if (key !== 'width' && key !== 'height') continue;
    if (typeof val !== 'number' || !Number.isInteger(val) || val < 0 || val > 0xffff) return null;
    if (key === 'width') width = val;
    else height = val;
  }
  return { width, height };
}
