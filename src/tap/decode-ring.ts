/**
 * The hand-off between forwarding and a decoder on a worker thread: the
 * counterpart of `DecodeQueue` when decoding does not share the forwarding
 * thread.
 *
 * `push` copies a data event's bytes into a ring in one SharedArrayBuffer
 * at once (reused memory: no allocation, no garbage on this thread), so the
 * caller may pass a view that is valid only during the call. The events of
 * one turn of the event loop go to the worker as one message; the worker
 * decodes each chunk where it lies in the ring and gives its ring space back
 * (a shared counter) when the decoder returns, so the decoder copies what it
 * keeps (see `readRing`).
 *
 * The bound and the gaps are `DecodeQueue`'s (one `DroppedGaps`): the ring holds `maxBytes`;
 * when a chunk does not fit, it is not copied but becomes a gap of the same
 * size at the same offset, and dropping goes on until the worker has caught
 * up to half the ring. Forwarding never waits for the worker.
 */
import type { Worker } from 'node:worker_threads';
import type { Direction } from '../common/errors.js';
import type { ConnectionEvent, ConnectionGap } from '../tcp/types.js';
import { type DecodeQueueStats, emptyQueueStats, EVENT_OVERHEAD_BYTES } from './decode-queue.js';
import { toWire, type RingMessage, type WireEvent, type RingReply } from './decode-ring-wire.js';
import { DroppedGaps } from './dropped-gaps.js';

export interface RingQueueOptions {
  /** Bytes the ring holds (the most decoding may fall behind). Default 64 MiB. */
  maxBytes?: number;
  /** Called once per run of dropped chunks (the first chunk dropped after data was accepted). */
  onDrop?: (gap: ConnectionGap) => void;
  /** Called when the worker's consumer threw on an event; forwarding and later events go on. */
  onConsumerError?: (message: string, event: { connection?: number; direction?: Direction }) => void;
  /** Messages of the application running in the worker (anything not the ring's own). */
  onMessage?: (message: unknown) => void;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

export class RingQueue {
  /** `push` copies data bytes: the caller need not hand over a copy. */
  readonly copies = true;
  private readonly ring: SharedArrayBuffer;
  private readonly bytes: Uint8Array;
  /** [0]: ring bytes the worker has given back, modulo 2^32. */
  private readonly released: Int32Array;
  private readonly size: number;
  /** Ring bytes handed out, modulo 2^32, and where the next chunk goes. */
  private given = 0;
  private writeAt = 0;
  private batch: WireEvent[] = [];
  private scheduled = false;
  private nextFlush = 1;
  private readonly flushes = new Map<number, () => void>();
  private readonly stats_: DecodeQueueStats = emptyQueueStats();
  /** A dropped chunk's gap grows while it is still in `batch`. */
  private readonly gaps: DroppedGaps;

  constructor(
    private readonly worker: Worker,
    private readonly opts: RingQueueOptions = {},
  ) {
    this.size = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    if (!(this.size > 0)) throw new RangeError('maxBytes must be positive');
    this.gaps = new DroppedGaps(this.stats_, (gap) => this.add(gap), opts.onDrop);
    this.ring = new SharedArrayBuffer(this.size);
    this.bytes = new Uint8Array(this.ring);
    this.released = new Int32Array(new SharedArrayBuffer(4));
    worker.on('message', (m: unknown) => this.onReply(m));
    this.post({ kind: 'ring', ring: this.ring, released: this.released.buffer as SharedArrayBuffer });
  }

  push(event: ConnectionEvent): void {
    if (event.kind !== 'data') {
      this.add(toWire(event));
      return;
    }
    const length = event.bytes.length;
    const skew = event.bytes.byteOffset & 7;
    const cost = this.costAt(length, skew);
    if (this.wouldDropCost(cost)) {
      this.gaps.drop(event);
      return;
    }
    this.gaps.accepted(event);
    const at = this.placeAt(length, skew);
    this.bytes.set(event.bytes, at);
    this.writeAt = at + Math.max(length, EVENT_OVERHEAD_BYTES);
    this.given = (this.given + cost) >>> 0;
    const queued = this.outstanding();
    if (queued > this.stats_.peakBytes) this.stats_.peakBytes = queued;
    const wire: WireEvent = { kind: 'data', connection: event.connection, direction: event.direction, offset: event.offset, time: event.time, at, length, cost };
    if (event.packet !== undefined) wire.packet = event.packet;
    this.add(wire);
  }

  /** Whether a data chunk of `size` bytes pushed now would become a gap. */
  wouldDrop(size: number): boolean {
    return this.wouldDropCost(this.costAt(size, 0));
  }

  /** Resolves once the worker has taken every event pushed so far. */
  idle(): Promise<void> {
    const id = this.nextFlush++;
    return new Promise((resolve) => {
      this.flushes.set(id, resolve);
      this.send();
      this.post({ kind: 'flush', id });
    });
  }

  stats(): DecodeQueueStats {
    return { ...this.stats_, queuedBytes: this.outstanding() };
  }

  /** Ring bytes in use: copied in and not yet taken out by the worker. */
  private outstanding(): number {
    return (this.given - Atomics.load(this.released, 0)) >>> 0;
  }

  /**
   * Where a chunk of `length` whose first byte lies `skew` bytes past an
   * 8-byte boundary goes: at the write position moved to the same skew, or at
   * the ring's start when it does not fit before the end. V8 copies into
   * shared memory a word at a time only when source and target are aligned
   * alike, byte by byte otherwise (four times slower, measured).
   */
  private placeAt(length: number, skew: number): number {
    const at = this.writeAt + ((skew - this.writeAt) & 7);
    return at + Math.max(length, EVENT_OVERHEAD_BYTES) <= this.size ? at : skew;
  }

  /** Ring bytes a chunk takes where `placeAt` puts it: the padding, or the skipped tail, included (small chunks are charged a minimum). */
  private costAt(length: number, skew: number): number {
    const at = this.placeAt(length, skew);
    const end = at + Math.max(length, EVENT_OVERHEAD_BYTES);
    return at >= this.writeAt ? end - this.writeAt : this.size - this.writeAt + end;
  }

  private wouldDropCost(cost: number): boolean {
    return this.gaps.wouldDrop(this.outstanding(), cost, this.size);
  }

  private add(event: WireEvent): void {
    this.batch.push(event);
    if (this.scheduled) return;
    this.scheduled = true;
    // One message per turn of the event loop: posting each read alone costs more than copying it.
    setImmediate(() => this.send());
  }

  private send(): void {
    this.scheduled = false;
    if (this.batch.length === 0) return;
    const events = this.batch;
    this.batch = [];
    this.gaps.deliveredAll();
    this.stats_.delivered += events.length;
    this.post({ kind: 'events', events });
  }

  private post(m: RingMessage): void {
    this.worker.postMessage(m);
  }

  private onReply(m: unknown): void {
    if (m && typeof m === 'object' && 'ring' in m) {
      const r = (m as RingReply).ring;
      if (r.kind === 'flushed') {
        this.flushes.get(r.id)?.();
        this.flushes.delete(r.id);
        return;
      }
      if (r.kind === 'consumer-error') {
        this.stats_.consumerErrors++;
        try {
          this.opts.onConsumerError?.(r.message, { connection: r.connection, direction: r.direction });
        } catch {
          // A failing error reporter must not break forwarding either.
        }
        return;
      }
    }
    this.opts.onMessage?.(m);
  }
}
