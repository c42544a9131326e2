/**
 * Whether `kubewire decode` hashes on a worker thread, and starting it. The
 * CLI starts it before it loads the decoder, so that the worker boots on the
 * other core meanwhile; `runDecode` starts it itself when nobody did.
 */
import { statSync } from 'node:fs';
import { WorkerDigests } from './digest-worker.js';

/** Files from this size repay starting the worker (about 30 ms of the other core). */
const DIGEST_WORKER_FROM = 16 * 1024 * 1024;

/** Only the summary and the JSON document show digests. */
export function wantsDigests(a: { summary: boolean; json: boolean; ndjson: boolean; follow: boolean }): boolean {
  return !a.ndjson && !a.follow && (a.summary || a.json);
}

/**
 * Hash on a worker thread for files from 16 MiB, and pipes, whose size is
 * unknown (`size` null). `KUBEWIRE_DIGEST_WORKER=0` hashes inline, `=1` always on the worker.
 */
export function useDigestWorker(size: number | null, env: NodeJS.ProcessEnv): boolean {
  const forced = env.KUBEWIRE_DIGEST_WORKER;
  if (forced === '0' || forced === '1') return forced === '1';
  return size === null || size >= DIGEST_WORKER_FROM;
}

/** The worker for a decode of `input` (a path or `-`), or null when it hashes inline. */
export function digestWorkerFor(
  a: { input: string; summary: boolean; json: boolean; ndjson: boolean; follow: boolean },
  env: NodeJS.ProcessEnv,
): WorkerDigests | null {
  if (!wantsDigests(a)) return null;
  let size: number | null = null;
  if (a.input !== '-') {
    const st = statSync(a.input, { throwIfNoEntry: false });
    if (!st?.isFile()) return null;
    size = st.size;
  }
  return useDigestWorker(size, env) ? new WorkerDigests() : null;
}
