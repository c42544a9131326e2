/**
 * The Kubernetes stream semantics the session model needs (roles, channel
 * numbers, status documents, resize messages). Small adapter kept here until
 * the k8s layer exports the same; see the spec notes, kubernetes-streams.md
 * §4 and §6.
 */
import type { StreamRole } from './events.js';

export const CHANNEL_ROLES: Readonly<Record<number, StreamRole>> = { 0: 'stdin', 1: 'stdout', 2: 'stderr', 3: 'error', 4: 'resize' };
export const CLOSE_CHANNEL = 255;

export interface ProtocolTraits {
  /** 1–5 for remote command protocols, 0 for port-forward or unknown. */
  version: number;
  base64: boolean;
  statusJson: boolean;
  portforward: boolean;
}

/** What a negotiated protocol name implies. `null`: none negotiated (V1 semantics). */
export function protocolTraits(name: string | null, kindHint: string): ProtocolTraits {
  const n = (name ?? '').toLowerCase();
  if (n.endsWith('portforward.k8s.io')) return { version: 0, base64: false, statusJson: false, portforward: true };
  const base64 = n.includes('base64');
  let version = 1;
  const m = /^v(\d)\./.exec(n);
  if (m) version = Number(m[1]);
  return { version, base64, statusJson: version >= 4, portforward: kindHint === 'portforward' };
}

export interface ParsedStatus {
  status: 'Success' | 'Failure';
  code: number | null;
  reason: string | null;
  message: string | null;
}

/**
 * A `metav1.Status` from the error stream (V4+): the exit code is the
 * `ExitCode` cause's message (the cause type's JSON key is `reason`).
 * Returns null when the bytes are not (yet) a JSON object.
 */
export function parseStatusJson(text: string): ParsedStatus | null {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return null;
  }
  if (!doc || typeof doc !== 'object') return null;
  const o = doc as Record<string, unknown>;
  const status = o.status === 'Success' ? 'Success' : 'Failure';
  const reason = typeof o.reason === 'string' ? o.reason : null;
  const message = typeof o.message === 'string' ? o.message : null;
  let code: number | null = status === 'Success' ? 0 : null;
  const details = o.details as { causes?: Array<{ reason?: unknown; message?: unknown }> } | undefined;
  for (const c of details?.causes ?? []) {
    if (c && c.reason === 'ExitCode' && typeof c.message === 'string' && /^\d+$/.test(c.message)) code = Number(c.message);
  }
  return { status, code, reason, message };
}

/** V1–V3: the error stream carries text, on failure only. */
export function parseStatusText(text: string): ParsedStatus {
  const m = /exit code (\d+)/.exec(text);
  return { status: 'Failure', code: m ? Number(m[1]) : null, reason: m ? 'NonZeroExitCode' : null, message: text };
}

/**
 * Resize messages: a stream of JSON objects (`{"Width":80,"Height":24}`,
 * field names matched case-insensitively, as Go's decoder does), separated
 * by whitespace. Bounded: a buffer that grows past `max` without a complete
 * object is dropped and reported.
 */
export class ResizeReader {
  private buf = '';
  constructor(private readonly max: number) {}

  /** Returns the complete sizes, and whether bytes had to be dropped. */
  push(bytes: Uint8Array): { sizes: Array<{ width: number; height: number }>; dropped: number; bad: string[] } {
    this.buf += Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
    const sizes: Array<{ width: number; height: number }> = [];
    const bad: string[] = [];
    let dropped = 0;
    for (;;) {
      const start = this.buf.search(/\S/);
      if (start < 0) {
        this.buf = '';
        break;
      }
      const end = jsonObjectEnd(this.buf, start);
      if (end < 0) {
        if (this.buf[start] !== '{') {
          // not JSON at all: drop up to the next '{'
          const next = this.buf.indexOf('{', start);
          const cut = next < 0 ? this.buf.length : next;
          bad.push(this.buf.slice(start, cut));
          dropped += cut;
          this.buf = this.buf.slice(cut);
          continue;
        }
        if (this.buf.length > this.max) {
          dropped += this.buf.length;
          bad.push(this.buf.slice(0, 40));
          this.buf = '';
        }
        break;
      }
      const text = this.buf.slice(start, end);
      this.buf = this.buf.slice(end);
      const size = parseSize(text);
      if (size) sizes.push(size);
      else bad.push(text);
    }
    return { sizes, dropped, bad };
  }
}

function parseSize(text: string): { width: number; height: number } | null {
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    let width: number | undefined;
    let height: number | undefined;
    for (const [k, v] of Object.entries(o)) {
      if (k.toLowerCase() === 'width' && typeof v === 'number') width = v;
      if (k.toLowerCase() === 'height' && typeof v === 'number') height = v;
    }
    if (width === undefined || height === undefined) return null;
    return { width, height };
  } catch {
    return null;
  }
}

/** Index after the JSON object starting at `start` ('{'), or -1 when incomplete. */
function jsonObjectEnd(s: string, start: number): number {
  if (s[start] !== '{') return -1;
  let depth = 0;
  let inString = false;
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** Does this look like the start of a resize message? (mid-session role inference) */
export function looksLikeResize(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 16)).toString('latin1');
  return /^\s*\{\s*"(width|height)"/i.test(head);
}

/** Does this look like a status document? (mid-session role inference) */
export function looksLikeStatus(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 64)).toString('latin1');
  return /^\{"(metadata|status|kind)"/.test(head) && head.includes('"');
}
