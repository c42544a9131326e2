/**
 * npm `spdy-transport` (protocol/spdy framer and parser) as a reference peer,
 * driven without sockets. Used by the interop tests and the benchmark.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const transport: any = require('spdy-transport');
const spdy: any = transport.protocol.spdy;

/** A frame as spdy-transport's parser emits it. */
export interface PeerFrame {
  type: string;
  id?: number;
  fin?: boolean;
  data?: Buffer;
  headers?: Record<string, string | string[]>;
  code?: string;
  delta?: number;
  lastId?: number;
  opaque?: Buffer;
  settings?: Record<string, number>;
  [k: string]: unknown;
}

function bigWindow(isServer: boolean): unknown {
  const side = { size: 2 ** 30, max: 2 ** 31 - 1, lowWaterMark: 0 };
  return new transport.Window({ id: 0, isServer, recv: side, send: side });
}

/** spdy-transport's SPDY/3.1 parser with its own inflate context. */
export class PeerParser {
  readonly parser: any;
  readonly frames: PeerFrame[] = [];
  readonly errors: Error[] = [];

  constructor(isServer = true) {
    this.parser = spdy.parser.create({ isServer, window: bigWindow(isServer) });
    this.parser.setVersion(3);
    this.parser.setCompression(spdy.compressionPool.create(true).get(3));
    this.parser.on('data', (f: PeerFrame) => this.frames.push(f));
    this.parser.on('error', (e: Error) => this.errors.push(e));
  }

  /** Write bytes; resolves once the parser has emitted everything it can. */
  async write(bytes: Uint8Array): Promise<void> {
    await new Promise<void>((resolve) => this.parser.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), () => resolve()));
    // Frames with header blocks complete on later ticks (async zlib).
    await new Promise((r) => setImmediate(r));
  }

  /** Write and wait until `n` frames (in total) have come out. */
  async writeUntil(bytes: Uint8Array, n: number, timeoutMs = 5000): Promise<PeerFrame[]> {
    const deadline = Date.now() + timeoutMs;
    this.parser.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
    while (this.frames.length < n && this.errors.length === 0) {
      if (Date.now() > deadline) throw new Error(`spdy-transport parser produced ${this.frames.length} of ${n} frames`);
      await new Promise((r) => setImmediate(r));
    }
    if (this.errors.length) throw this.errors[0];
    return this.frames;
  }
}

/** spdy-transport's SPDY/3.1 framer with its own deflate context; collects what it writes. */
export class PeerFramer {
  readonly framer: any;
  private readonly chunks: Buffer[] = [];

  constructor(isServer = false) {
    this.framer = spdy.framer.create({ window: bigWindow(isServer), timeout: null });
    this.framer.setVersion(3);
    this.framer.setCompression(spdy.compressionPool.create(true).get(3));
    this.framer.enablePush(true);
    this.framer.on('data', (c: Buffer) => this.chunks.push(c));
  }

  /** Call one framer method (e.g. 'requestFrame') and wait for its callback. */
  async frame(method: string, frame: Record<string, unknown>): Promise<void> {
    await new Promise<void>((resolve, reject) => this.framer[method](frame, (err?: Error) => (err ? reject(err) : resolve())));
  }

  /** Everything written so far (after letting the readable side flush). */
  async take(): Promise<Buffer> {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    const out = Buffer.concat(this.chunks);
    this.chunks.length = 0;
    return out;
  }
}
