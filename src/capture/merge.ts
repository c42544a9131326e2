/**
 * Several captures read as one: a k-way merge of their packets by timestamp,
 * as `mergecap` does. Sans-IO: push each input's bytes as they are read, pull
 * records in merged order. An input's records keep their own order (a file
 * that is not sorted by time is merged as it is, like a single file is read);
 * equal timestamps go to the input given first. Each input may have its clock
 * corrected by a fixed offset before the comparison (a capture taken on
 * another machine).
 *
 * Memory is bounded by the inputs' unread chunks: at most one packet per
 * input waits to be compared. Interface descriptions, secrets and
 * diagnostics come out as soon as they are read (secrets before the packets
 * they are for). An input that fails (corrupt framing, or unreadable) ends
 * alone: the others go on.
 */
import type { KubewireError } from '../common/errors.js';
import { CAPTURE_ERROR, captureError } from './errors.js';
import { CaptureReader } from './reader.js';
import { captureChunks, type CaptureSourceOptions } from './sources.js';
import type { CaptureFormat, CapturePacket, CaptureReaderOptions, CaptureRecord } from './types.js';

/** A record and the input (0-based, in the order given) it came from. */
export interface MergedRecord {
  input: number;
  record: CaptureRecord;
}

export interface CaptureMergeOptions extends CaptureReaderOptions {
  /** Per input, µs added to every packet's time before merging (a clock correction). Default 0. */
  clockOffsetsUs?: readonly number[];
}

export class CaptureMerge {
  private readonly readers: CaptureReader[];
  private readonly offsets: number[];
  /** Per input: the packet waiting to be compared, or null. */
  private readonly heads: Array<CapturePacket | null>;
  /** Per input: nothing more will come. */
  private readonly exhausted: boolean[];
  /** Records to hand out before anything else (an input's failure). */
  private readonly queued: MergedRecord[] = [];
  private waiting = -1;

  constructor(
    readonly inputs: number,
    options: CaptureMergeOptions = {},
  ) {
    this.readers = Array.from({ length: inputs }, () => new CaptureReader(options));
    this.offsets = Array.from({ length: inputs }, (_, i) => options.clockOffsetsUs?.[i] ?? 0);
    this.heads = new Array<CapturePacket | null>(inputs).fill(null);
    this.exhausted = new Array<boolean>(inputs).fill(false);
  }

  /** Append input `i`'s bytes (views are kept: do not reuse the chunk). */
  push(input: number, chunk: Uint8Array): void {
    this.readers[input]!.push(chunk);
  }

  /** Input `i` has no more bytes. */
  end(input: number): void {
    this.readers[input]!.end();
  }

  /** Input `i` could not be read on (I/O error): it ends here with this error. */
  fail(input: number, error: KubewireError): void {
    if (this.exhausted[input]) return;
    this.exhausted[input] = true;
    this.heads[input] = null;
    this.queued.push({ input, record: { kind: 'diagnostic', error, fatal: true } });
  }

  /** Input `i`'s reader (its format, offset). */
  reader(input: number): CaptureReader {
    return this.readers[input]!;
  }

  /**
   * After `next()` returned null: the input whose bytes are needed before
   * the merge can go on, or -1 when every input is done.
   */
  get waitingFor(): number {
    return this.waiting;
  }

  /** The next record in merged order, or null (see `waitingFor`). */
  next(): MergedRecord | null {
    if (this.queued.length > 0) return this.queued.shift()!;
    const heads = this.heads;
    let best = -1;
    let bestTime = 0;
    for (let i = 0; i < this.inputs; i++) {
      if (this.exhausted[i]) continue;
      let head = heads[i] ?? null;
      if (head === null) {
        const reader = this.readers[i]!;
        const r = reader.next();
        if (r === null) {
          if (reader.done) {
            this.exhausted[i] = true;
            continue;
          }
          this.waiting = i;
          return null;
        }
        if (r.kind !== 'packet') return { input: i, record: r };
        if (this.offsets[i] !== 0) r.time += this.offsets[i]!;
        heads[i] = head = r;
      }
      if (best < 0 || head.time < bestTime) {
        best = i;
        bestTime = head.time;
      }
    }
    if (best < 0) {
      this.waiting = -1;
      return null;
    }
    const record = heads[best]!;
    heads[best] = null;
    return { input: best, record };
  }
}

export interface MergeFilesOptions extends CaptureMergeOptions, CaptureSourceOptions {
  /** Every chunk read, with its input (progress). */
  onChunk?: (input: number, bytes: number) => void;
  /** Stop reading when this returns true (checked after each record). */
  stop?: () => boolean;
}

/**
 * Reads capture files (or other inputs `captureChunks` takes) in chunks and
 * hands their records to `onRecord` in merged order, synchronously. Packet
 * views stay valid after the call (chunks are fresh buffers, never reused).
 * A file that cannot be opened or read becomes a fatal `CAPTURE_UNREADABLE`
 * diagnostic of its input; the others are read to the end. Resolves to each
 * input's format, where it was recognised.
 */
export async function mergeCaptureInputs(
  inputs: readonly (string | Uint8Array)[],
  onRecord: (m: MergedRecord) => void,
  options: MergeFilesOptions = {},
): Promise<Array<CaptureFormat | undefined>> {
  const merge = new CaptureMerge(inputs.length, options);
  const sources = inputs.map((input) => captureChunks(input, options));
  const formats = () => inputs.map((_, i) => merge.reader(i).format);
  try {
    for (;;) {
      for (let m = merge.next(); m !== null; m = merge.next()) {
        onRecord(m);
        if (options.stop?.()) return formats();
      }
      const i = merge.waitingFor;
      if (i < 0) return formats();
      let step: IteratorResult<Uint8Array>;
      try {
        step = await sources[i]!.next();
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        merge.fail(
          i,
          captureError(CAPTURE_ERROR.UNREADABLE, 'file', `cannot read the capture: ${err.code ?? err.message}`, {
            offset: merge.reader(i).offset + merge.reader(i).buffered,
          }),
        );
        continue;
      }
      if (step.done) merge.end(i);
      else {
        merge.push(i, step.value);
        options.onChunk?.(i, step.value.length);
      }
    }
  } finally {
    await Promise.all(sources.map((s) => s.return(undefined).catch(() => undefined)));
  }
}
