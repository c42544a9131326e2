/**
 * The hand-off between forwarding and decoding. Forwarding calls `push` and
 * returns at once; the consumer (decoder, pcapng writer, outputs) runs later
 * in bounded slices, so a slow or failing consumer can never stall or break
 * the copy between the two sockets.
 *
 * The queue is bounded in bytes. When the consumer falls behind and a data
 * chunk would exceed the bound, the chunk is not queued: it becomes a `gap`
 * event of the same size at the same stream offset — exactly what TCP
 * reassembly reports for bytes a capture missed — so the decoder resyncs or
 * reports, and the loss is visible in every output instead of being hidden.
 * Consecutive dropped chunks of one direction grow a single gap.
 */
import { KubewireError, type Direction } from '../common/errors.js';
import type { ConnectionEvent, ConnectionGap } from '../tcp/types.js';
import { DroppedGaps } from './dropped-gaps.js';

export interface DecodeQueueOptions {
  /** Bytes of data the queue may hold before it drops (as gaps). Default 64 MiB. */
  maxBytes?: number;
  /** Time one drain slice may run before yielding to I/O. Default 8 ms. */
  sliceMs?: number;
  /**
   * While more than an eighth of `maxBytes` is queued, a slice may run as
   * long as the I/O since the previous slice took (a fair share: forwarding
   * keeps at least half the thread), up to this. Default 50 ms.
   */
  maxSliceMs?: number;
  /** Called when the consumer throws; forwarding and later events go on. */
  onConsumerError?: (error: unknown, event: ConnectionEvent) => void;
  /** Called once per run of dropped chunks (the first chunk dropped after data was accepted). */
  onDrop?: (gap: ConnectionGap) => void;
  /** Time source for `sliceMs`; injectable for tests. */
  now?: () => number;
}

export interface DecodeQueueStats {
  /** Events handed to the consumer. */
  delivered: number;
  /** Data bytes replaced by gaps because the consumer was behind. */
  droppedBytes: number;
  /** Data chunks replaced by gaps. */
  droppedChunks: number;
  /** Exceptions thrown by the consumer. */
  consumerErrors: number;
  /** Largest number of accounted bytes ever queued. */
  peakBytes: number;
  /** Accounted bytes queued now. */
  queuedBytes: number;
}

/** Stats of a queue that has seen nothing yet. */
export function emptyQueueStats(): DecodeQueueStats {
  return { delivered: 0, droppedBytes: 0, droppedChunks: 0, consumerErrors: 0, peakBytes: 0, queuedBytes: 0 };
}

/**
 * Small events still cost memory; charging each at least this much keeps a
 * flood of one-byte chunks bounded by `maxBytes` too.
 */
export const EVENT_OVERHEAD_BYTES = 64;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const DEFAULT_SLICE_MS = 8;
const DEFAULT_MAX_SLICE_MS = 50;

export class DecodeQueue {
  private readonly items: ConnectionEvent[] = [];
  private head = 0;
  private queuedBytes = 0;
  private scheduled = false;
  private draining = false;
  private idleWaiters: Array<() => void> = [];
  private readonly maxBytes: number;
  private readonly sliceMs: number;
  private readonly maxSliceMs: number;
  /** When the previous slice ended (for the fair-share budget). */
  private lastSliceEnd = 0;
  private readonly now: () => number;
  private readonly stats_: DecodeQueueStats = emptyQueueStats();
  private readonly gaps: DroppedGaps;

  constructor(
    private readonly consumer: (event: ConnectionEvent) => void,
    private readonly opts: DecodeQueueOptions = {},
  ) {
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    this.sliceMs = opts.sliceMs ?? DEFAULT_SLICE_MS;
    this.maxSliceMs = Math.max(this.sliceMs, opts.maxSliceMs ?? DEFAULT_MAX_SLICE_MS);
    this.now = opts.now ?? (() => performance.now());
    if (!(this.maxBytes > 0)) throw new RangeError('maxBytes must be positive');
    this.gaps = new DroppedGaps(this.stats_, (gap) => this.enqueue(gap, EVENT_OVERHEAD_BYTES), opts.onDrop);
  }

  /**
   * Queue one event. Data bytes are retained, not copied: the caller must not
   * mutate them afterwards (the tap hands over its own copy of a read made
   * into a reused buffer).
   */
  push(event: ConnectionEvent): void {
    if (event.kind === 'data') {
      const cost = Math.max(event.bytes.length, EVENT_OVERHEAD_BYTES);
      if (this.wouldDrop(event.bytes.length)) {
        this.gaps.drop(event);
        return;
      }
      this.gaps.accepted(event);
      this.enqueue(event, cost);
      return;
    }
    this.enqueue(event, EVENT_OVERHEAD_BYTES);
  }

  /**
   * Whether a data chunk of `size` bytes pushed now would become a gap: a
   * caller that copies bytes for the consumer need not copy those.
   */
  wouldDrop(size: number): boolean {
    return this.gaps.wouldDrop(this.queuedBytes, Math.max(size, EVENT_OVERHEAD_BYTES), this.maxBytes);
  }

  /** Resolves once every queued event has been handed to the consumer. */
  idle(): Promise<void> {
    if (this.head === this.items.length && !this.draining) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Deliver everything now, synchronously (for shutdown paths that cannot wait). */
  drainNow(): void {
    this.drain(Infinity);
  }

  stats(): DecodeQueueStats {
    return { ...this.stats_, queuedBytes: this.queuedBytes };
  }

  private enqueue(event: ConnectionEvent, cost: number): void {
    this.items.push(event);
    this.queuedBytes += cost;
    if (this.queuedBytes > this.stats_.peakBytes) this.stats_.peakBytes = this.queuedBytes;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // setImmediate runs after pending I/O callbacks, so socket reads and
    // writes interleave with decoding slices.
    setImmediate(() => {
      this.scheduled = false;
      this.drain(this.budget());
    });
  }

  /**
   * A short slice while the consumer keeps up. Once it falls behind, as
   * long as the rest of the loop took since the last slice: forwarding and
   * decoding then share the thread about evenly, which lets a decoder about
   * as fast as forwarding keep up instead of dropping; a much slower one
   * still drops rather than slowing forwarding further.
   */
  private budget(): number {
    if (this.queuedBytes * 8 <= this.maxBytes || this.lastSliceEnd === 0) return this.sliceMs;
    const io = this.now() - this.lastSliceEnd;
    return Math.min(this.maxSliceMs, Math.max(this.sliceMs, io));
  }

  private drain(budgetMs: number): void {
    if (this.draining) return;
    this.draining = true;
    const deadline = budgetMs === Infinity ? Infinity : this.now() + budgetMs;
    try {
      let n = 0;
      while (this.head < this.items.length) {
        const event = this.items[this.head]!;
        this.items[this.head] = undefined as unknown as ConnectionEvent;
        this.head++;
        this.queuedBytes -= event.kind === 'data' ? Math.max(event.bytes.length, EVENT_OVERHEAD_BYTES) : EVENT_OVERHEAD_BYTES;
        if (event.kind === 'gap') this.gaps.delivered(event);
        this.deliver(event);
        // Checking the clock every event costs more than the decoding of a small one.
        if ((++n & 15) === 0 && this.now() >= deadline) break;
      }
      // Compact so a long-running tap does not keep a growing array of holes.
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items.splice(0, this.head);
        this.head = 0;
      } else if (this.head === this.items.length) {
        this.items.length = 0;
        this.head = 0;
      }
    } finally {
      this.draining = false;
      this.lastSliceEnd = this.now();
    }
    if (this.head < this.items.length) this.schedule();
    else this.wakeIdle();
  }

  private deliver(event: ConnectionEvent): void {
    this.stats_.delivered++;
    try {
      this.consumer(event);
    } catch (error) {
      this.stats_.consumerErrors++;
      try {
        this.opts.onConsumerError?.(error, event);
      } catch {
        // A failing error reporter must not break forwarding either.
      }
    }
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

/** The error the tap reports when a consumer throws (decoders are meant never to). */
export function consumerFailure(error: unknown, event: ConnectionEvent): KubewireError {
  return decoderFailed(error instanceof Error ? error.message : String(error), {
    connection: event.connection,
    direction: event.kind === 'data' || event.kind === 'gap' ? event.direction : undefined,
  });
}

/** The same, for a consumer on a worker thread, which reports the message and where. */
export function decoderFailed(message: string, at: { connection?: number; direction?: Direction }): KubewireError {
  return new KubewireError('tap', 'TAP_DECODER_FAILED', 'connection', `decoder threw: ${message}`, at);
}

/** The error the tap reports when decoding fell behind and bytes were skipped. */
export function decodeBehind(gap: ConnectionGap): KubewireError {
  return new KubewireError(
    'tap',
    'TAP_DECODE_BEHIND',
    'connection',
    'decoding fell behind forwarding; bytes were forwarded but not decoded',
    { connection: gap.connection, direction: gap.direction, offset: gap.offset },
  );
}
