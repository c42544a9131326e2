/**
 * Sans-IO HTTP/1.1 message parser for one direction of a connection:
 * requests (client→server) or responses (server→client). Bytes in, events
 * out, any chunk boundaries. Keep-alive (many messages), bodies by
 * Content-Length, chunked or (responses) until close, and protocol switches:
 *
 * - request side: after a request that asks for an upgrade, or a CONNECT,
 *   the parser holds further bytes (copies: they outlive the call) until the
 *   owner learns the answer: `acceptUpgrade()` hands them to the next
 *   protocol (or the tunnel), `refuseUpgrade()` parses them as HTTP again.
 * - response side: a `101`, or a 2xx answering a CONNECT, ends HTTP; the
 *   `switch` event carries the bytes after the head (a view into the same
 *   chunk).
 *
 * Body bytes are views into the pushed chunks (valid as long as the caller
 * does not reuse them). Heads are decoded as latin1, the HTTP/1 octet rule.
 */
import { ByteQueue } from '../common/byte-queue.js';
import { KubewireError, type Direction, type ErrorMode } from '../common/errors.js';
import { headerHasToken, headerValue, headerValues, type HeaderList } from './headers.js';
import { splitTarget } from './target.js';

export interface HttpLimits {
  /** Bytes of one head (start line + headers). Default 64 KiB. */
  maxHeadBytes: number;
  /** Header lines per message. Default 256. */
  maxHeaders: number;
  /** Bytes of a chunk-size line or trailer line. Default 4 KiB. */
  maxLineBytes: number;
  /** Bytes held after an upgrade request while its answer is pending. Default 1 MiB. */
  maxHeldBytes: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxHeadBytes: 64 * 1024,
  maxHeaders: 256,
  maxLineBytes: 4096,
  maxHeldBytes: 1024 * 1024,
};

export interface HttpRequestHead {
  method: string;
  target: string;
  path: string;
  query: string;
  version: string;
  headers: HeaderList;
  /** Offset of the request line. */
  offset: number;
  /** Bytes of the head including the blank line. */
  headLength: number;
  /** The `Upgrade` value when the request asks to switch protocols (Connection: upgrade + Upgrade). */
  upgrade: string | null;
}

export interface HttpResponseHead {
  status: number;
  reason: string;
  version: string;
  headers: HeaderList;
  offset: number;
  headLength: number;
}

export type HttpParseEvent =
  | { kind: 'request-head'; head: HttpRequestHead }
  | { kind: 'response-head'; head: HttpResponseHead }
  /** Body bytes (de-chunked); a view. `offset`: where they sit in the byte stream. */
  | { kind: 'body'; bytes: Uint8Array; offset: number }
  /** The message (head and body) is complete; `offset`: first byte after it. */
  | { kind: 'message-end'; offset: number }
  /** Request side: an upgrade request ended; bytes after it are held until accept/refuse. */
  | { kind: 'upgrade-pending'; offset: number }
  /** The protocol switched at `offset`; `rest` = bytes already received after it (views). */
  | { kind: 'switch'; offset: number; rest: Uint8Array[] }
  | { kind: 'diagnostic'; error: KubewireError };

export interface HttpParserOptions {
  type: 'request' | 'response';
  mode?: ErrorMode;
  direction?: Direction;
  connection?: number;
  limits?: Partial<HttpLimits>;
  baseOffset?: number;
}

/** What the response parser needs to know about the request a response answers. */
export interface ExpectedResponse {
  method: string;
  upgrade: string | null;
}

const enum State {
  Head,
  BodyLength,
  BodyUntilClose,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UpgradePending,
  Switched,
  Broken,
}

const CR = 13;
const LF = 10;
const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Whether a response ends HTTP on its connection: a `101`, or a 2xx
 * answering a CONNECT (RFC 9110 §9.3.6: a tunnel from the end of its head).
 * Whoever follows both directions (the parser, the tap's request gate, the
 * timeline) decides with this one rule.
 */
export function switchesProtocol(method: string | undefined, status: number): boolean {
  return status === 101 || (method === 'CONNECT' && status >= 200 && status < 300);
}

export class HttpParser {
  readonly type: 'request' | 'response';
  private readonly mode: ErrorMode;
  private readonly direction: Direction;
  private readonly connection: number | undefined;
  private readonly limits: HttpLimits;

  private state = State.Head;
  /** Absolute offset of the next byte to be processed. */
  private pos: number;
  /** Head / line accumulation. */
  private readonly acc = new ByteQueue();
  /** Last bytes seen while scanning for the end of a head (for CRLFCRLF across chunks). */
  private tail = 0;
  private headStart = 0;
  private remaining = 0;
  private lineBytes = 0;
  private trailerLineEmpty = true;
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private readonly expected: ExpectedResponse[] = [];
  private current: { head: boolean; method: string; upgrade: string | null } | null = null;
  private messages = 0;

  constructor(opts: HttpParserOptions) {
    this.type = opts.type;
    this.mode = opts.mode ?? 'strict';
    this.direction = opts.direction ?? (opts.type === 'request' ? 'clientToServer' : 'serverToClient');
    this.connection = opts.connection;
    this.limits = { ...DEFAULT_HTTP_LIMITS, ...opts.limits };
    this.pos = opts.baseOffset ?? 0;
    this.acc.offset = this.pos;
  }

  /** Absolute offset of the next byte expected. */
  get offset(): number {
    return this.pos + this.heldBytes;
  }

  /** Complete messages parsed so far. */
  get messageCount(): number {
    return this.messages;
  }

  /** True once the parser gave up (inspect mode) or the protocol switched. */
  get done(): boolean {
    return this.state === State.Broken || this.state === State.Switched;
  }

  /** True while in the middle of a message (for end-of-input diagnostics). */
  get inMessage(): boolean {
    return (
      (this.state === State.Head && this.acc.length > 0) ||
      this.state === State.BodyLength ||
      this.state === State.ChunkSize ||
      this.state === State.ChunkData ||
      this.state === State.ChunkDataEnd ||
      this.state === State.Trailers
    );
  }

  /** Response side: the next response answers this request (queue, in order). */
  expectResponse(req: ExpectedResponse): void {
    this.expected.push(req);
  }

  push(chunk: Uint8Array): HttpParseEvent[] {
    const out: HttpParseEvent[] = [];
    this.consume(chunk, out);
    return out;
  }

  /** Request side, after `upgrade-pending`: the server switched; the held bytes are the new protocol's. */
  acceptUpgrade(): Uint8Array[] {
    const rest = this.held;
    this.held = [];
    this.pos += this.heldBytes;
    this.heldBytes = 0;
    this.state = State.Switched;
    return rest;
  }

  /** Request side, after `upgrade-pending`: the server refused; parse the held bytes as HTTP again. */
  refuseUpgrade(): HttpParseEvent[] {
    if (this.state !== State.UpgradePending) return [];
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    this.state = State.Head;
    const out: HttpParseEvent[] = [];
    for (const c of held) this.consume(c, out);
    return out;
  }

  /** End of input. Responses without a length end here; anything partial is a diagnostic. */
  end(): HttpParseEvent[] {
    const out: HttpParseEvent[] = [];
    if (this.state === State.BodyUntilClose) {
      this.finishMessage(out);
    } else if (this.inMessage) {
      this.fail(out, 'HTTP_TRUNCATED', 'the input ended inside an HTTP message', 'message');
    }
    return out;
  }

  private consume(chunk: Uint8Array, out: HttpParseEvent[]): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      switch (this.state) {
        case State.Head: {
          if (this.acc.length === 0) {
            // Tolerate blank lines between messages (RFC 9112 §2.2).
            const skipFrom = i;
            while (i < n && (chunk[i] === CR || chunk[i] === LF)) i++;
            this.pos += i - skipFrom;
            if (i === n) return;
            this.headStart = this.pos;
            this.acc.offset = this.headStart;
            this.tail = 0;
          }
          const start = i;
          let found = -1;
          let t = this.tail;
          for (; i < n; i++) {
            const b = chunk[i]!;
            if (b === LF) {
              // end of head: an empty line, i.e. LF followed by (CR) LF
              if (t === 1 || t === 3) {
                found = i + 1;
                break;
              }
              t = 1;
            } else if (b === CR) {
              t = t === 1 ? 3 : 2;
            } else {
              t = 0;
            }
          }
          this.tail = t;
          const end = found < 0 ? n : found;
          this.acc.push(chunk.subarray(start, end));
          if (this.acc.length > this.limits.maxHeadBytes) {
            this.fail(out, 'HTTP_HEAD_TOO_LARGE', `HTTP head longer than ${this.limits.maxHeadBytes} bytes`, 'connection');
            return;
          }
          if (found < 0) {
            this.pos += n - start;
            return;
          }
          this.pos += end - start;
          const headBytes = this.acc.take(this.acc.length);
          this.acc.clear();
          if (!this.onHead(headBytes, out)) {
            if ((this.state as State) === State.Switched) out.push({ kind: 'switch', offset: this.pos, rest: end < n ? [chunk.subarray(end)] : [] });
            return;
          }
          i = end;
          break;
        }
        case State.BodyLength: {
          const take = Math.min(this.remaining, n - i);
          out.push({ kind: 'body', bytes: chunk.subarray(i, i + take), offset: this.pos });
          i += take;
          this.pos += take;
          this.remaining -= take;
          if (this.remaining === 0) this.finishMessage(out);
          break;
        }
        case State.BodyUntilClose: {
          out.push({ kind: 'body', bytes: chunk.subarray(i), offset: this.pos });
          this.pos += n - i;
          return;
        }
        case State.ChunkSize:
        case State.Trailers: {
          // accumulate one line
          const start = i;
          while (i < n && chunk[i] !== LF) i++;
          const complete = i < n;
          if (complete) i++;
          const piece = chunk.subarray(start, i);
          this.pos += piece.length;
          this.lineBytes += piece.length;
          if (this.lineBytes > this.limits.maxLineBytes) {
            this.fail(out, 'HTTP_LINE_TOO_LONG', `chunk-size or trailer line longer than ${this.limits.maxLineBytes} bytes`, 'connection');
            return;
          }
          if (this.state === State.ChunkSize) this.acc.push(piece);
          else if (piece.some((b) => b !== CR && b !== LF)) this.trailerLineEmpty = false;
          if (!complete) break;
          this.lineBytes = 0;
          if (this.state === State.ChunkSize) {
            const line = latin1(this.acc.take(this.acc.length)).trim();
            this.acc.clear();
            const sizeText = line.split(';', 1)[0]!.trim();
            if (!/^[0-9a-fA-F]{1,15}$/.test(sizeText)) {
              this.fail(out, 'HTTP_BAD_CHUNK', `bad chunk size line ${JSON.stringify(line.slice(0, 40))}`, 'connection');
              return;
            }
            const size = parseInt(sizeText, 16);
            if (size === 0) {
              this.state = State.Trailers;
              this.trailerLineEmpty = true;
            } else {
              this.remaining = size;
              this.state = State.ChunkData;
            }
          } else {
            if (this.trailerLineEmpty) this.finishMessage(out);
            this.trailerLineEmpty = true;
          }
          break;
        }
        case State.ChunkData: {
          const take = Math.min(this.remaining, n - i);
          out.push({ kind: 'body', bytes: chunk.subarray(i, i + take), offset: this.pos });
          i += take;
          this.pos += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            this.state = State.ChunkDataEnd;
            this.lineBytes = 0;
          }
          break;
        }
        case State.ChunkDataEnd: {
          // CRLF after chunk data (a bare LF tolerated)
          const b = chunk[i]!;
          if (b === CR && this.lineBytes === 0) {
            this.lineBytes = 1;
            i++;
            this.pos++;
          } else if (b === LF) {
            i++;
            this.pos++;
            this.lineBytes = 0;
            this.state = State.ChunkSize;
          } else {
            this.fail(out, 'HTTP_BAD_CHUNK', 'chunk data not followed by CRLF', 'connection');
            return;
          }
          break;
        }
        case State.UpgradePending: {
          // Held across calls until the answer arrives, while callers may reuse their chunks
          // once `push` returns: keep a copy. (The response side hands over views: a 101 and
          // the first frames after it are in the chunk being pushed.)
          const rest = chunk.slice(i);
          this.heldBytes += rest.length;
          this.held.push(rest);
          if (this.heldBytes > this.limits.maxHeldBytes) {
            this.fail(out, 'HTTP_UPGRADE_UNANSWERED', `more than ${this.limits.maxHeldBytes} bytes sent after an upgrade request with no answer`, 'connection');
          }
          return;
        }
        case State.Switched:
        case State.Broken:
          return;
        default: {
          const never: never = this.state;
          throw new Error(`bad state ${String(never)}`);
        }
      }
    }
  }

  /** Parse a complete head. Returns false when the parser can go no further. */
  private onHead(bytes: Uint8Array, out: HttpParseEvent[]): boolean {
    const text = latin1(bytes);
    const lines = text.split(/\r?\n/);
    // the head ends with an empty line (and the split leaves a trailing '')
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    const startLine = lines[0] ?? '';
    const headers: HeaderList = [];
    for (let k = 1; k < lines.length; k++) {
      const line = lines[k]!;
      if ((line.startsWith(' ') || line.startsWith('\t')) && headers.length > 0) {
        // obsolete line folding: part of the previous value
        const last = headers[headers.length - 1]!;
        last[1] = `${last[1]} ${line.trim()}`;
        continue;
      }
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon) : '';
      if (!TCHAR.test(name)) {
        this.diag(out, 'HTTP_BAD_HEADER', `malformed header line ${JSON.stringify(line.slice(0, 60))}`, 'message', this.headStart);
        continue;
      }
      headers.push([name, line.slice(colon + 1).trim()]);
      if (headers.length > this.limits.maxHeaders) {
        this.fail(out, 'HTTP_TOO_MANY_HEADERS', `more than ${this.limits.maxHeaders} header lines`, 'connection', this.headStart);
        return false;
      }
    }
    return this.type === 'request' ? this.onRequestHead(startLine, headers, bytes.length, out) : this.onResponseHead(startLine, headers, bytes.length, out);
  }

  private onRequestHead(line: string, headers: HeaderList, headLength: number, out: HttpParseEvent[]): boolean {
    const m = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) +(\S+) +(HTTP\/\d\.\d)$/.exec(line);
    if (!m) {
      this.fail(out, 'HTTP_BAD_REQUEST_LINE', `not an HTTP request line: ${JSON.stringify(line.slice(0, 60))}`, 'connection', this.headStart);
      return false;
    }
    const [, method, target, version] = m as unknown as [string, string, string, string];
    const { path, query } = splitTarget(target);
    const upgradeValue = headerValue(headers, 'upgrade');
    const upgrade = upgradeValue !== null && headerHasToken(headers, 'connection', 'upgrade') ? upgradeValue : null;
    const head: HttpRequestHead = { method, target, path, query, version, headers, offset: this.headStart, headLength, upgrade };
    out.push({ kind: 'request-head', head });
    this.current = { head: method === 'HEAD', method, upgrade };
    // Request bodies: chunked, Content-Length, or none (RFC 9112 §6.3 rules 6-7).
    const framing = this.bodyFraming(headers, out);
    if (framing === 'bad') return false;
    if (framing === 'chunked') this.startChunked();
    else if (framing === 'close') {
      this.fail(out, 'HTTP_BAD_TRANSFER_ENCODING', 'request Transfer-Encoding without chunked', 'connection', this.headStart);
      return false;
    } else if (framing > 0) {
      this.remaining = framing;
      this.state = State.BodyLength;
    } else this.finishMessage(out);
    return true;
  }

  private onResponseHead(line: string, headers: HeaderList, headLength: number, out: HttpParseEvent[]): boolean {
    const m = /^(HTTP\/\d\.\d) +(\d{3})(?: (.*))?$/.exec(line);
    if (!m) {
      this.fail(out, 'HTTP_BAD_STATUS_LINE', `not an HTTP status line: ${JSON.stringify(line.slice(0, 60))}`, 'connection', this.headStart);
      return false;
    }
    const version = m[1]!;
    const status = Number(m[2]);
    const head: HttpResponseHead = { status, reason: m[3] ?? '', version, headers, offset: this.headStart, headLength };
    out.push({ kind: 'response-head', head });
    if (status === 101) {
      this.expected.shift();
      this.messages++;
      this.state = State.Switched;
      out.push({ kind: 'message-end', offset: this.pos });
      return false; // the caller's loop stops; the rest is handed over below
    }
    if (status >= 100 && status < 200) {
      // interim response: the final one follows for the same request
      out.push({ kind: 'message-end', offset: this.pos });
      this.state = State.Head;
      return true;
    }
    const req = this.expected.shift();
    if (switchesProtocol(req?.method, status)) {
      // a tunnel from the end of this head on, both ways (RFC 9110 §9.3.6: no content)
      this.messages++;
      this.state = State.Switched;
      out.push({ kind: 'message-end', offset: this.pos });
      return false;
    }
    this.current = { head: req?.method === 'HEAD', method: req?.method ?? 'GET', upgrade: req?.upgrade ?? null };
    if (this.current.head || status === 204 || status === 304) {
      this.finishMessage(out);
      return true;
    }
    const framing = this.bodyFraming(headers, out);
    if (framing === 'bad') return false;
    if (framing === 'chunked') this.startChunked();
    else if (framing === 'close') this.state = State.BodyUntilClose;
    else if (framing > 0) {
      this.remaining = framing;
      this.state = State.BodyLength;
    } else if (headerValue(headers, 'content-length') === null) {
      // no length: the body runs until the connection closes
      this.state = State.BodyUntilClose;
    } else this.finishMessage(out);
    return true;
  }

  private bodyFraming(headers: HeaderList, out: HttpParseEvent[]): number | 'chunked' | 'close' | 'bad' {
    const te = headerValues(headers, 'transfer-encoding');
    if (te.length > 0) {
      const codings = te.join(',').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
      return codings[codings.length - 1] === 'chunked' ? 'chunked' : 'close';
    }
    const cl = headerValues(headers, 'content-length');
    if (cl.length === 0) return 0;
    const values = new Set(cl.join(',').split(',').map((s) => s.trim()));
    const v = [...values][0]!;
    if (values.size !== 1 || !/^\d{1,15}$/.test(v)) {
      this.fail(out, 'HTTP_BAD_CONTENT_LENGTH', `bad Content-Length ${JSON.stringify(cl.join(', '))}`, 'connection', this.headStart);
      return 'bad';
    }
    return Number(v);
  }

  private startChunked(): void {
    this.state = State.ChunkSize;
    this.lineBytes = 0;
    this.acc.clear();
  }

  private finishMessage(out: HttpParseEvent[]): void {
    this.messages++;
    out.push({ kind: 'message-end', offset: this.pos });
    if (this.type === 'request' && (this.current?.upgrade || this.current?.method === 'CONNECT')) {
      // what follows is the new protocol's, or the tunnel's, if the answer agrees
      this.state = State.UpgradePending;
      out.push({ kind: 'upgrade-pending', offset: this.pos });
    } else {
      this.state = State.Head;
    }
    this.current = null;
  }

  private diag(out: HttpParseEvent[], code: string, message: string, scope: 'message' | 'connection', offset: number): void {
    const error = new KubewireError('http', code, scope, message, { offset, direction: this.direction, connection: this.connection });
    if (this.mode === 'strict') throw error;
    out.push({ kind: 'diagnostic', error });
  }

  private fail(out: HttpParseEvent[], code: string, message: string, scope: 'message' | 'connection', offset = this.pos): void {
    this.state = State.Broken;
    this.acc.clear();
    this.diag(out, code, message, scope, offset);
  }
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}
