/**
 * sha256 digests on a worker thread, so that hashing (about a quarter of
 * decoding a bulk capture) runs on the second core while this thread parses.
 *
 * Bytes travel through a ring of slots in one SharedArrayBuffer. `update`
 * copies the caller's view into the current slot right away, so the view is
 * only read during the call: the reader's buffers and the codecs' views need
 * not outlive it. A full slot goes to the worker with a list of (digest id,
 * length) pairs; the worker hashes the pieces in order and hands the slot
 * back. When every slot is out, `update` waits (Atomics.wait) for the oldest
 * one: hashing trails parsing by at most the ring, and memory stays bounded.
 * One digest's pieces are hashed in the order they were given, and different
 * digests are independent, so the digests are the ones inline hashing gives.
 *
 * The worker's code is a string (no file to find, bundled or not) that loads
 * only `node:crypto` and `node:worker_threads`.
 */
import { Worker } from 'node:worker_threads';
import type { DigestEngine, RunningDigest } from '../timeline/digests.js';

export interface DigestWorkerOptions {
  /** Bytes per slot (default 1 MiB). */
  slotBytes?: number;
  /** Slots in the ring (default 8). */
  slots?: number;
}

const FREE = 0;
const QUEUED = 1;
/** In a slot's (id, length) list, a negative length is an operation on the digest, not bytes. */
const MARK = -1;
const REWIND = -2;
/** An id that names no digest: its length is padding to skip. */
const PADDING = -1;
/**
 * From this many bytes a piece is placed at its source's alignment to 8 bytes:
 * V8 copies into shared memory a word at a time only when source and target
 * are aligned alike, byte by byte otherwise (four times slower, measured).
 */
const ALIGN_FROM = 256;

// Runs in the worker. state[i] is slot i's owner; state[slots] is set when hashing failed.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { ring, state: stateBuffer, slotBytes, slots } = workerData;
const state = new Int32Array(stateBuffer);
const hashes = [];
const marked = [];
parentPort.on('message', (m) => {
  try {
    if (m.finish) {
      const out = [];
      for (let i = 0; i < hashes.length; i++) out.push(hashes[i] === undefined ? null : hashes[i].copy().digest('hex'));
      parentPort.postMessage(out);
      return;
    }
    let at = m.slot * slotBytes;
    const pieces = m.pieces;
    for (let i = 0; i < pieces.length; i += 2) {
      const id = pieces[i];
      const n = pieces[i + 1];
      if (id === ${PADDING}) {
        at += n;
        continue;
      }
      let h = hashes[id];
      if (h === undefined) h = hashes[id] = createHash('sha256');
      if (n === ${MARK}) {
        marked[id] = h.copy();
        continue;
      }
      if (n === ${REWIND}) {
        hashes[id] = marked[id];
        marked[id] = undefined;
        continue;
      }
      h.update(new Uint8Array(ring, at, n));
      at += n;
    }
    Atomics.store(state, m.slot, ${FREE});
    Atomics.notify(state, m.slot);
  } catch (e) {
    Atomics.store(state, slots, 1);
    for (let i = 0; i <= slots; i++) Atomics.notify(state, i);
    throw e;
  }
});
`;

export class DigestWorkerError extends Error {}

/** A `DigestEngine` whose hashing runs on a worker thread; call `settle()` before reading digests. */
export class WorkerDigests implements DigestEngine {
  private readonly worker: Worker;
  private readonly ring: SharedArrayBuffer;
  private readonly state: Int32Array;
  private readonly slotBytes: number;
  private readonly slots: number;
  /** The slot being filled, its fill level and its (id, length) pairs. */
  private slot = 0;
  private view: Uint8Array;
  private fill = 0;
  private pieces: number[] = [];
  private lastId = -1;
  private nextId = 0;
  /** Digests by id, once settled; null while bytes are outstanding. */
  private results: (string | null)[] | null = [];
  private failure: Error | null = null;

  constructor(options: DigestWorkerOptions = {}) {
    this.slotBytes = options.slotBytes ?? 1024 * 1024;
    this.slots = options.slots ?? 8;
    this.ring = new SharedArrayBuffer(this.slotBytes * this.slots);
    this.state = new Int32Array(new SharedArrayBuffer(4 * (this.slots + 1)));
    this.view = new Uint8Array(this.ring, 0, this.slotBytes);
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { ring: this.ring, state: this.state.buffer, slotBytes: this.slotBytes, slots: this.slots },
      // The worker needs none of the parent's options or environment.
      env: {},
      execArgv: [],
      stdout: false,
      stderr: false,
    });
    this.worker.on('error', (e) => (this.failure = e));
    // Idle, it must not keep the process alive; `settle` holds it while waiting.
    this.worker.unref();
  }

  open(): RunningDigest {
    const id = this.nextId++;
    return {
      update: (bytes) => this.update(id, bytes),
      hex: () => this.hex(id),
      mark: () => this.operation(id, MARK),
      rewind: () => this.operation(id, REWIND),
    };
  }

  private update(id: number, bytes: Uint8Array): void {
    this.results = null;
    let from = 0;
    const length = bytes.length;
    while (from < length) {
      if (this.fill === this.slotBytes) this.dispatch();
      if (length - from >= ALIGN_FROM) {
        const pad = (bytes.byteOffset + from - (this.slot * this.slotBytes + this.fill)) & 7;
        if (pad > 0 && this.fill + pad < this.slotBytes) {
          this.pieces.push(PADDING, pad);
          this.fill += pad;
          this.lastId = -1;
        } else if (pad > 0 && this.fill > 0) {
          // No room for the padding: the rest of the slot goes unused.
          this.dispatch();
          continue;
        }
      }
      const n = Math.min(length - from, this.slotBytes - this.fill);
      this.view.set(from === 0 && n === length ? bytes : bytes.subarray(from, from + n), this.fill);
      this.fill += n;
      from += n;
      const p = this.pieces;
      if (id === this.lastId) p[p.length - 1]! += n;
      else {
        p.push(id, n);
        this.lastId = id;
      }
    }
  }

  /** Queue a mark or rewind of digest `id`, in order with its bytes. */
  private operation(id: number, op: number): void {
    this.results = null;
    this.pieces.push(id, op);
    // the next bytes of `id` must not be added to the operation's entry
    this.lastId = -1;
  }

  /** Hand the current slot to the worker and wait until the next one is free. */
  private dispatch(): void {
    if (this.pieces.length === 0) return;
    Atomics.store(this.state, this.slot, QUEUED);
    this.worker.postMessage({ slot: this.slot, pieces: this.pieces });
    this.slot = (this.slot + 1) % this.slots;
    this.view = new Uint8Array(this.ring, this.slot * this.slotBytes, this.slotBytes);
    this.fill = 0;
    this.pieces = [];
    this.lastId = -1;
    // The worker takes slots in order, so the next one is the oldest out.
    // Its events cannot arrive while this thread waits: a failure shows in
    // the state word, and a worker that never starts in a minute is one too.
    for (let waited = 0; Atomics.load(this.state, this.slot) !== FREE; waited++) {
      this.checkFailed();
      if (waited === 60) throw new DigestWorkerError('the digest worker did not answer for a minute');
      Atomics.wait(this.state, this.slot, QUEUED, 1000);
    }
  }

  private checkFailed(): void {
    if (this.failure || Atomics.load(this.state, this.slots) !== 0) {
      throw new DigestWorkerError(`the digest worker failed${this.failure ? `: ${this.failure.message}` : ''}`);
    }
  }

  /** Hash whatever is still queued and collect every digest. */
  async settle(): Promise<void> {
    if (this.results !== null) return;
    this.dispatch();
    this.worker.ref();
    try {
      const out = await new Promise<(string | null)[]>((resolve, reject) => {
        const onError = (e: Error) => reject(new DigestWorkerError(`the digest worker failed: ${e.message}`));
        this.worker.once('message', (m: (string | null)[]) => {
          this.worker.off('error', onError);
          resolve(m);
        });
        this.worker.once('error', onError);
        this.worker.postMessage({ finish: true });
      });
      this.results = out;
    } finally {
      this.worker.unref();
    }
  }

  private hex(id: number): string {
    if (this.results === null) throw new DigestWorkerError('digests read before settle()');
    const h = this.results[id];
    if (typeof h !== 'string') throw new DigestWorkerError(`no digest for ${id}`);
    return h;
  }

  /** Stop the worker (it also ends with the process). */
  close(): Promise<number> {
    return this.worker.terminate();
  }
}
