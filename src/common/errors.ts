/**
 * One error type for every layer, so that a caller (and the CLI) can report
 * any failure the same way: a stable machine-readable `code`, the layer that
 * raised it, what it affects (`scope`), and where it happened.
 */

/** Which way bytes travel on a connection. */
export type Direction = 'clientToServer' | 'serverToClient';

export const DIRECTIONS: readonly Direction[] = ['clientToServer', 'serverToClient'];

export function oppositeDirection(d: Direction): Direction {
  return d === 'clientToServer' ? 'serverToClient' : 'clientToServer';
}

/**
 * What an error makes unusable. `session` and `connection` errors end the
 * whole SPDY session / WebSocket connection / TCP connection; `stream` and
 * `channel` errors affect one stream; `file`, `block` and `packet` errors come
 * from capture files.
 */
export type ErrorScope =
  | 'file'
  | 'block'
  | 'packet'
  | 'connection'
  | 'session'
  | 'stream'
  | 'channel'
  | 'message';

export type Layer = 'capture' | 'tcp' | 'tls' | 'http' | 'http2' | 'spdy' | 'websocket' | 'k8s' | 'timeline' | 'cli' | 'mux' | 'tap' | 'serve';

export interface ErrorLocation {
  /** The capture file, when several inputs are decoded together (as named on the command line). */
  file?: string;
  /** Absolute byte offset in the byte stream (or file) the layer consumes. */
  offset?: number;
  direction?: Direction;
  /** 1-based packet number (pcap record or pcapng packet block). */
  packet?: number;
  /** 1-based block number in a pcapng file. */
  block?: number;
  streamId?: number;
  channel?: number;
  connection?: number;
}

export class KubewireError extends Error {
  override readonly name = 'KubewireError';
  readonly file: string | undefined;
  readonly offset: number | undefined;
  readonly direction: Direction | undefined;
  readonly packet: number | undefined;
  readonly block: number | undefined;
  readonly streamId: number | undefined;
  readonly channel: number | undefined;
  readonly connection: number | undefined;

  constructor(
    readonly layer: Layer,
    /** Stable code, SCREAMING_CASE, prefixed by layer, e.g. `SPDY_FRAME_TOO_LARGE`. */
    readonly code: string,
    readonly scope: ErrorScope,
    message: string,
    location: ErrorLocation = {},
  ) {
    super(withLocation(message, location));
    this.bare = message;
    this.file = location.file;
    this.offset = location.offset;
    this.direction = location.direction;
    this.packet = location.packet;
    this.block = location.block;
    this.streamId = location.streamId;
    this.channel = location.channel;
    this.connection = location.connection;
  }

  /** The message without the location suffix. */
  readonly bare: string;

  /** The same error, located in capture file `file` too (its offsets are that file's). */
  inFile(file: string): KubewireError {
    const e = new KubewireError(this.layer, this.code, this.scope, this.bare, {
      file,
      offset: this.offset,
      direction: this.direction,
      packet: this.packet,
      block: this.block,
      streamId: this.streamId,
      channel: this.channel,
      connection: this.connection,
    });
    return e;
  }

  /** Plain object for JSON output; stable field names. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {
      layer: this.layer,
      code: this.code,
      scope: this.scope,
      message: this.message,
    };
    for (const key of ['file', 'offset', 'direction', 'packet', 'block', 'streamId', 'channel', 'connection'] as const) {
      if (this[key] !== undefined) out[key] = this[key];
    }
    return out;
  }
}

function withLocation(message: string, loc: ErrorLocation): string {
  const parts: string[] = [];
  if (loc.file !== undefined) parts.push(`file ${loc.file}`);
  if (loc.connection !== undefined) parts.push(`connection ${loc.connection}`);
  if (loc.direction !== undefined) parts.push(loc.direction === 'clientToServer' ? 'client→server' : 'server→client');
  if (loc.streamId !== undefined) parts.push(`stream ${loc.streamId}`);
  if (loc.channel !== undefined) parts.push(`channel ${loc.channel}`);
  if (loc.block !== undefined) parts.push(`block ${loc.block}`);
  if (loc.packet !== undefined) parts.push(`packet ${loc.packet}`);
  if (loc.offset !== undefined) parts.push(`offset ${loc.offset}`);
  return parts.length ? `${message} (${parts.join(', ')})` : message;
}

export function isKubewireError(e: unknown): e is KubewireError {
  return e instanceof KubewireError;
}

/**
 * strict: behave like an endpoint, throw the first wire error.
 * inspect: never throw on wire input; report a diagnostic and carry on where
 * the framing allows (what a capture decoder wants).
 */
export type ErrorMode = 'strict' | 'inspect';
