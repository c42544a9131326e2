/**
 * I/O adapters around the sans-IO reader: a file path (read in fixed-size
 * chunks, so memory does not grow with the file), `-` for stdin, any Node
 * Readable (e.g. `tcpdump -U -w -` on a pipe: records come out as soon as their
 * bytes arrive), an async iterable of chunks, or bytes in memory.
 */
import { open } from 'node:fs/promises';
import { CaptureReader } from './reader.js';
import type { CaptureReaderOptions, CaptureRecord } from './types.js';

export type CaptureInput = string | Uint8Array | AsyncIterable<Uint8Array> | NodeJS.ReadableStream;

export interface CaptureSourceOptions {
  /** Bytes per file read (default 1 MiB). */
  chunkSize?: number;
}

const DEFAULT_CHUNK = 1024 * 1024;

/**
 * The chunks of a capture input. Every chunk is a fresh buffer (never reused),
 * so views into it stay valid as long as someone holds them.
 */
export async function* captureChunks(input: CaptureInput, options: CaptureSourceOptions = {}): AsyncGenerator<Uint8Array> {
  if (input instanceof Uint8Array) {
    yield input;
    return;
  }
  if (typeof input === 'string') {
    if (input === '-') {
      yield* streamChunks(process.stdin);
      return;
    }
    const size = options.chunkSize ?? DEFAULT_CHUNK;
    const fh = await open(input, 'r');
    // One read ahead: the next chunk is read (on libuv's thread pool) while
    // the consumer works on this one, instead of the decoder idling through
    // every read. Only one read is outstanding, so file order holds.
    let ahead: Promise<{ bytesRead: number; buffer: Buffer }> | null = fh.read(Buffer.allocUnsafeSlow(size), 0, size, null);
    try {
      for (;;) {
        const { bytesRead, buffer }: { bytesRead: number; buffer: Buffer } = await ahead!;
        ahead = null;
        if (bytesRead === 0) return;
        ahead = fh.read(Buffer.allocUnsafeSlow(size), 0, size, null);
        yield bytesRead === size ? buffer : buffer.subarray(0, bytesRead);
      }
    } finally {
      // A consumer that stops early leaves a read in flight: let it land before closing.
      if (ahead) await ahead.catch(() => undefined);
      await fh.close();
    }
  }
  yield* streamChunks(input);
}

async function* streamChunks(input: AsyncIterable<unknown> | NodeJS.ReadableStream): AsyncGenerator<Uint8Array> {
  for await (const chunk of input as AsyncIterable<unknown>) {
    if (chunk instanceof Uint8Array) yield chunk;
    else if (typeof chunk === 'string') yield Buffer.from(chunk, 'latin1');
  }
}

/** Records of a capture input, pulled as input arrives. Packet views stay valid (chunks are not reused). */
export async function* readCapture(
  input: CaptureInput,
  options: CaptureReaderOptions & CaptureSourceOptions = {},
): AsyncGenerator<CaptureRecord> {
  const reader = new CaptureReader(options);
  for await (const chunk of captureChunks(input, options)) {
    reader.push(chunk);
    for (let r = reader.next(); r !== null; r = reader.next()) yield r;
    if (reader.done) return;
  }
  reader.end();
  for (let r = reader.next(); r !== null; r = reader.next()) yield r;
}
