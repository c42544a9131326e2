/**
 * What a bounded decode queue (`DecodeQueue` on the forwarding thread,
 * `RingQueue` for a worker) does with a data chunk it has no room for: the
 * chunk is not queued but becomes a gap of the same size at the same stream
 * offset, and further dropped chunks of the same direction grow that one gap
 * while it is still queued. Once the bound is hit, dropping goes on until
 * the queue is down to half of it. The queue keeps its own bytes, bound and
 * delivery; this keeps the rule and the gaps, so both queues report the same.
 */
import type { Direction } from '../common/errors.js';
import type { ConnectionData, ConnectionGap } from '../tcp/types.js';
import type { DecodeQueueStats } from './decode-queue.js';

export class DroppedGaps {
  /** Dropping since the bound was hit, until the queue is down to half of it. */
  private dropping = false;
  /** The still-queued gap a further drop on the same connection and direction extends. */
  private readonly open = new Map<string, ConnectionGap>();

  constructor(
    /** The queue's stats, where dropped bytes and chunks are counted. */
    private readonly stats: Pick<DecodeQueueStats, 'droppedBytes' | 'droppedChunks'>,
    /** Queues a new gap (a later drop may still grow it until `delivered`). */
    private readonly enqueue: (gap: ConnectionGap) => void,
    /** Called once per new gap, i.e. once per run of dropped chunks. */
    private readonly onDrop: ((gap: ConnectionGap) => void) | undefined,
  ) {}

  /** Whether a chunk taking `cost` bytes becomes a gap while `queued` of the queue's `bound` bytes are in use. */
  wouldDrop(queued: number, cost: number, bound: number): boolean {
    // Once dropping, keep dropping until the consumer has caught up to half
    // the bound: a few long gaps cost a decoder one resync each, where
    // data and gaps in alternation would make it resync over and over.
    const limit = this.dropping ? bound / 2 : bound;
    return queued + cost > limit;
  }

  /** Replace `chunk` by a gap: the still-queued one it continues, or a new one. */
  drop(chunk: ConnectionData): void {
    this.dropping = true;
    const size = chunk.bytes.length;
    this.stats.droppedBytes += size;
    this.stats.droppedChunks++;
    const k = directionKey(chunk.connection, chunk.direction);
    const open = this.open.get(k);
    if (open && open.offset + open.size === chunk.offset) {
      open.size += size;
      return;
    }
    const gap: ConnectionGap = { kind: 'gap', connection: chunk.connection, direction: chunk.direction, offset: chunk.offset, size, time: chunk.time };
    if (chunk.packet !== undefined) gap.packet = chunk.packet;
    this.open.set(k, gap);
    this.enqueue(gap);
    this.onDrop?.(gap);
  }

  /** `chunk` was queued: dropping stops, and a later drop in its direction starts a new gap. */
  accepted(chunk: ConnectionData): void {
    this.dropping = false;
    if (this.open.size > 0) this.open.delete(directionKey(chunk.connection, chunk.direction));
  }

  /** `gap` left the queue: it is the consumer's now and must not grow. */
  delivered(gap: ConnectionGap): void {
    if (this.open.size === 0) return;
    const k = directionKey(gap.connection, gap.direction);
    if (this.open.get(k) === gap) this.open.delete(k);
  }

  /** Every queued event left the queue at once (a batch went to the worker). */
  deliveredAll(): void {
    this.open.clear();
  }
}

/** The key of one connection's direction, for the open gaps. */
function directionKey(connection: number, direction: Direction): string {
  return `${connection}${direction === 'clientToServer' ? '>' : '<'}`;
}
