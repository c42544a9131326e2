/**
 * Whether `kubewire decode` hashes on a worker thread, and starting it. The
 * CLI starts it before it loads the decoder, so that the worker boots on the
 * other core meanwhile; `runDecode` starts it itself when nobody did.
 */
import { readFileSync, statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { WorkerDigests } from './digest-worker.js';

/** Files from this size repay starting the worker (about 30 ms of the other core). */
const DIGEST_WORKER_FROM = 16 * 1024 * 1024;

/** Only the summary and the JSON document show digests. */
export function wantsDigests(a: { summary: boolean; json: boolean; ndjson: boolean; follow: boolean }): boolean {
  return !a.ndjson && !a.follow && (a.summary || a.json);
}

/**
 * Hash on a worker thread for files from 16 MiB, and pipes, whose size is
 * unknown (`size` null), when a core is spare: the worker only pays where it
 * runs beside the parser. On a busy machine (measured at a load of 13–17 on 2
 * cores, and beside one busy loop on 2) it made decoding slower, its start
 * and the copies costing more than the hashing it took over.
 * `KUBEWIRE_DIGEST_WORKER=0` hashes inline, `=1` always on the worker.
 */
export function useDigestWorker(
  size: number | null,
  env: NodeJS.ProcessEnv,
  machine: { cores: number; load: number } = { cores: availableParallelism(), load: loadNow() },
): boolean {
  const forced = env.KUBEWIRE_DIGEST_WORKER;
  if (forced === '0' || forced === '1') return forced === '1';
  if (machine.cores < 2 || machine.cores - machine.load < 1) return false;
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
    if (!st || (!st.isFile() && !st.isFIFO())) return null;
    // A named pipe's size is unknown, as standard input's.
    size = st.isFile() ? st.size : null;
  }
  return useDigestWorker(size, env) ? new WorkerDigests() : null;
}

/**
 * How many other tasks want a core right now. On Linux, the runnable tasks of
 * /proc/loadavg less this process's own thread; elsewhere the one-minute load
 * average. That average trails by a minute: a decode run just after another
 * one (a script, a benchmark) saw the earlier decode's load and hashed inline
 * on an idle machine.
 */
export function loadNow(read: () => string = () => readFileSync('/proc/loadavg', 'latin1')): number {
  try {
    // "0.52 0.58 0.59 1/467 1234": the fourth field is runnable/all
    const running = Number.parseInt(read().split(' ')[3] ?? '', 10);
    if (running >= 1) return running - 1;
  } catch {
    // not Linux
  }
  return loadavg()[0]!;
}
