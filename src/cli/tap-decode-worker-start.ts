/**
 * Starting the tap's decoding worker, and whether to. The worker's file sits
 * beside this one: `dist/cli/` in the unbundled build, `dist/bin/` in the
 * bundle (an entry of its own), the TypeScript source when run through tsx.
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { TapWorkerData } from '../tap/decode-worker-side.js';

/**
 * Decode on a worker thread when there is a second core: forwarding and
 * decoding then run side by side instead of taking turns on one thread.
 * `KUBEWIRE_TAP_DECODE_WORKER=0` decodes on the forwarding thread, `=1` on
 * the worker always.
 */
export function useTapDecodeWorker(env: NodeJS.ProcessEnv, cores = availableParallelism()): boolean {
  const forced = env.KUBEWIRE_TAP_DECODE_WORKER;
  if (forced === '0' || forced === '1') return forced === '1';
  return cores >= 2;
}

export function startTapDecodeWorker(data: TapWorkerData): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./tap-decode-worker.js', import.meta.url), { workerData: data });
  // From source (development, tests, benchmarks) the worker loads its file through tsx's API: on
  // Node 20 a worker's entry is loaded before the hooks of `--import tsx` are in place.
  const api = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const file = new URL('./tap-decode-worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(api)}).then((m) => m.tsImport(${JSON.stringify(file)}, ${JSON.stringify(import.meta.url)}))`;
  return new Worker(boot, { eval: true, workerData: data });
}
