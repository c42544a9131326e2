/**
 * The tap's decoding on a worker thread: the worker's half. Run inside the
 * worker, `serveTapDecoding` reads the tap's events from its ring
 * (`readRing`), decodes them with `TapDecoding` into outputs the caller
 * builds there, and sends what the outputs write to the thread that owns
 * stdout (`TapWorkerMessage`). The forwarding thread's half is in `runTap`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { SessionDecoderOptions } from '../timeline/index.js';
import type { ConnectionEvent } from '../tcp/types.js';
import { copyBytes } from '../common/bytes.js';
import { readRing } from './decode-ring-reader.js';
import { TapDecoding, type SummaryStage, type TapOutput } from './tap-decoding.js';
import type { DecodeSummary } from '../timeline/index.js';

/** What the worker is started with (`workerData`). */
export interface TapWorkerData {
  decoder: SessionDecoderOptions;
  write?: string;
  /** [0]: bytes the real output has accepted but not written yet (kept up to date by the forwarding thread). */
  backlog: SharedArrayBuffer;
  maxOutputBacklogBytes: number;
  /** The caller's own part, for `build`. */
  app: unknown;
}

/** Worker → forwarding thread. */
export type TapWorkerMessage =
  | { tap: 'out'; chunk: string | Uint8Array }
  | { tap: 'say'; line: string }
  | { tap: 'finished'; summary: DecodeSummary; unrendered: number }
  | { tap: 'failed'; message: string };

/** Forwarding thread → worker (after the ring's last events). */
export interface TapWorkerRequest {
  tap: 'finish';
}

/**
 * `build` makes the outputs from `app`, writing to `stdout` (a stand-in
 * whose writes go to the forwarding thread, in order).
 */
export function serveTapDecoding(
  build: (app: unknown, stdout: NodeJS.WritableStream) => Promise<{ output: TapOutput; summaryStage?: SummaryStage }>,
): void {
  const port = parentPort!;
  const data = workerData as TapWorkerData;
  const post = (m: TapWorkerMessage) => port.postMessage(m);
  const stdout = {
    write(chunk: string | Uint8Array, a?: unknown, b?: unknown): boolean {
      // An empty write is how outputs wait for what they wrote before: order is kept, nothing to send.
      if (chunk.length > 0) post({ tap: 'out', chunk });
      const cb = typeof a === 'function' ? a : typeof b === 'function' ? b : undefined;
      if (cb) queueMicrotask(() => (cb as () => void)());
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  const backlog = new Int32Array(data.backlog);

  // Events arrive from the start; they wait here until the outputs are built,
  // with copies of their bytes (a data event's view into the ring is valid only during the call).
  let pending: ConnectionEvent[] | null = [];
  let consume: (ev: ConnectionEvent) => void = (ev) => pending!.push(ev.kind === 'data' ? { ...ev, bytes: copyBytes(ev.bytes) } : ev);
  let finishing = false;
  readRing(
    port,
    (ev) => consume(ev),
    (m) => {
      if ((m as TapWorkerRequest).tap === 'finish') {
        finishing = true;
        void ready.then(finish, () => {});
      }
    },
  );

  const ready = build(data.app, stdout).then(
    ({ output, summaryStage }) => {
      const decoding = new TapDecoding({
        decoder: data.decoder,
        write: data.write,
        output,
        summaryStage,
        outputBacklog: () => Atomics.load(backlog, 0),
        maxOutputBacklogBytes: data.maxOutputBacklogBytes,
        say: (line) => post({ tap: 'say', line }),
      });
      const early = pending!;
      pending = null;
      consume = decoding.consumer;
      for (const ev of early) consume(ev);
      return decoding;
    },
    (e: unknown) => {
      post({ tap: 'failed', message: e instanceof Error ? e.message : String(e) });
      throw e;
    },
  );

  async function finish(decoding: TapDecoding): Promise<void> {
    if (!finishing) return;
    try {
      const summary = await decoding.finish();
      post({ tap: 'finished', summary, unrendered: decoding.unrendered });
    } catch (e) {
      post({ tap: 'failed', message: e instanceof Error ? e.message : String(e) });
    }
  }
}
