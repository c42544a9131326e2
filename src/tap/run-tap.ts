/**
 * The I/O edge of `kubewire tap`: start the proxy, decode what it forwards
 * into the outputs `decode` uses, record it if asked, and on a stop request
 * shut down in order — stop accepting, give open sessions a grace period,
 * let the decoder finish, flush every output and the recording.
 */
import { appendFileSync, closeSync, createWriteStream, openSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import type { KubewireError } from '../common/errors.js';
import type { DecodeSummary, SessionDecoderOptions } from '../timeline/index.js';
import { hostPort, type ListenAddress, type UpstreamAddress } from './addresses.js';
import { kubeconfigSnippet } from './kubeconfig.js';
import { PcapngRecorder } from './pcapng-recorder.js';
import { startTap, type Tap, type TapStats } from './proxy.js';
import type { SignIn } from './signed-in-client.js';
import { localKubeconfigYaml, writeLocalKubeconfig, type LocalKubeconfigFile } from '../identity/local-access.js';
import { generateSelfSigned } from './self-signed.js';
import { printable } from '../common/printable.js';

import { TapDecoding, type SummaryStage, type TapOutput } from './tap-decoding.js';
import type { TapWorkerMessage, TapWorkerRequest } from './decode-worker-side.js';

export type { SummaryStage, TapOutput } from './tap-decoding.js';

export interface TapRunOptions {
  /** Sees every event, then completes the summary; none: the decoder's summary as it is. */
  summaryStage?: SummaryStage;
  listen: ListenAddress;
  /** Where to forward; in signed-in mode, the kubeconfig cluster's server. */
  upstream: UpstreamAddress;
  /**
   * Sign in upstream as a kubeconfig user (TLS listener, local token, a
   * kubeconfig written for the local side) instead of passing credentials through.
   */
  signIn?: SignIn & {
    /** Where to write the local kubeconfig (default: a fresh private temp folder). */
    kubeconfigOut?: string;
    /** Kept in the local kubeconfig. */
    contextName: string;
    namespace?: string;
    proxyUrl?: URL;
  };
  /** Append the TLS secrets of both sides to this file (NSS key log format). */
  keylogFile?: string;
  /** Only problems on stderr (no banner): the wrapper's command owns the terminal. */
  quiet?: boolean;
  /** Called with the local kubeconfig's path once it is written. */
  onKubeconfig?: (path: string) => void;
  /** TLS on the listener: a given certificate and key, or a generated self-signed one. */
  tls?: { cert: string; key: string } | 'self-signed';
  upstreamCa?: string;
  insecure?: boolean;
  servername?: string;
  /** Record to this pcapng file. */
  write?: string;
  /** How long open sessions may go on after a stop request. */
  graceMs: number;
  decoder: SessionDecoderOptions;
  /** Where the timeline events go; with `decodeWorker`, the worker builds its own and this is not used. */
  output?: TapOutput;
  /**
   * Decode on this worker thread instead (it runs `serveTapDecoding`, was
   * started with a `TapWorkerData` and has nothing else to do; it is ended
   * at the end). What its outputs write comes to `write`, in order.
   */
  decodeWorker?: { worker: Worker; write: (chunk: string | Uint8Array) => void };
  /** Status lines and the kubeconfig snippet go here (stdout belongs to the outputs). */
  stderr: NodeJS.WritableStream;
  /** Resolves on the first stop request (SIGINT/SIGTERM in the CLI). */
  stopped: Promise<void>;
  /** Resolves on a second stop request: cut the grace period short. */
  forced?: Promise<void>;
  /** Called once listening (tests use it to learn the port). */
  onListening?: (tap: Tap) => void;
  /** Bytes the decode queue may hold before it drops decoding (as gaps). */
  maxDecodeQueueBytes?: number;
  /**
   * Bytes the output has accepted but not yet written (e.g. stdout piped to
   * a slow reader). Above `maxOutputBacklogBytes`, live events are not
   * rendered (the decoder and the summary still see everything) until the
   * backlog drains; the count is reported at exit.
   */
  outputBacklog?: () => number;
  /** Default 16 MiB. */
  maxOutputBacklogBytes?: number;
}

export interface TapRunResult {
  /** 0 after an orderly stop; 2 when the tap could not start. */
  exitCode: number;
  stats?: TapStats;
  summary?: DecodeSummary;
  /** Problems reported while running (also printed). */
  reports: KubewireError[];
}

export const DEFAULT_MAX_OUTPUT_BACKLOG = 16 * 1024 * 1024;

export async function runTap(opts: TapRunOptions): Promise<TapRunResult> {
  const reports: KubewireError[] = [];
  // Lines can carry what peers sent (diagnostics): no control characters reach the terminal.
  const say = (line: string) => opts.stderr.write(`kubewire tap: ${printable(line)}\n`);
  const report = (e: KubewireError) => {
    reports.push(e);
    say(`${e.code}: ${e.message}`);
  };

  let tlsPair: { cert: string; key: string } | undefined;
  // kubectl sends a bearer token only over TLS: a signed-in tap always has it.
  if (opts.tls === 'self-signed' || (opts.signIn && !opts.tls)) {
    // The unspecified address (listen on all) names no host a client would dial.
    const unspecified = opts.listen.host === '0.0.0.0' || opts.listen.host === '::';
    tlsPair = generateSelfSigned({ names: unspecified ? [] : [opts.listen.host] });
  } else if (opts.tls) {
    tlsPair = opts.tls;
  }

  const worker = opts.decodeWorker ? workerDecoding(opts.decodeWorker, say) : undefined;
  const stopWorker = () => void opts.decodeWorker?.worker.terminate();
  let decoding: TapDecoding | undefined;
  if (!worker) {
    if (!opts.output) throw new TypeError('runTap needs an output or a decode worker');
    decoding = new TapDecoding({
      decoder: opts.decoder,
      write: opts.write,
      output: opts.output,
      summaryStage: opts.summaryStage,
      outputBacklog: opts.outputBacklog,
      maxOutputBacklogBytes: opts.maxOutputBacklogBytes ?? DEFAULT_MAX_OUTPUT_BACKLOG,
      say,
    });
  }

  let recorder: PcapngRecorder | undefined;
  if (opts.write) {
    const file = createWriteStream(opts.write);
    const opened = new Promise<void>((resolve, reject) => {
      file.once('open', () => resolve());
      file.once('error', reject);
    });
    try {
      await opened;
    } catch (e) {
      say(`cannot write ${opts.write}: ${(e as Error).message}`);
      stopWorker();
      return { exitCode: 2, reports };
    }
    file.on('error', (e) => say(`writing ${opts.write} failed: ${e.message}`));
    recorder = new PcapngRecorder(file, { onReport: report });
  }

  let keylog: ((line: Buffer) => void) | undefined;
  if (opts.keylogFile) {
    try {
      // Created (or kept) readable by the user alone: these are secrets.
      closeSync(openSync(opts.keylogFile, 'a', 0o600));
    } catch (e) {
      say(`cannot write ${opts.keylogFile}: ${(e as Error).message}`);
      await recorder?.close();
      stopWorker();
      return { exitCode: 2, reports };
    }
    const file = opts.keylogFile;
    keylog = (line) => appendFileSync(file, line);
  }

  let tap: Tap;
  try {
    tap = await startTap({
      signIn: opts.signIn,
      proxyUrl: opts.signIn?.proxyUrl,
      keylog,
      listen: opts.listen,
      upstream: opts.upstream,
      upstreamCa: opts.upstreamCa,
      insecure: opts.insecure,
      servername: opts.servername,
      tls: tlsPair,
      consumer: decoding?.consumer,
      worker: worker && { worker: opts.decodeWorker!.worker, onMessage: worker.onMessage },
      consumerOwnsBytes: true,
      record: recorder?.record,
      onReport: report,
      queue: opts.maxDecodeQueueBytes ? { maxBytes: opts.maxDecodeQueueBytes } : undefined,
    });
  } catch (e) {
    say(`cannot listen on ${hostPort(opts.listen.host, opts.listen.port)}: ${(e as Error).message}`);
    await recorder?.close();
    stopWorker();
    return { exitCode: 2, reports };
  }

  let removeKubeconfig = () => {};
  const upstreamUrl = `${opts.upstream.protocol}://${hostPort(opts.upstream.host, opts.upstream.port)}`;
  const recording = opts.write ? `, recording to ${opts.write}` : '';
  if (opts.signIn) {
    const yaml = localKubeconfigYaml({
      server: tap.url,
      caPem: tlsPair!.cert,
      token: opts.signIn.localToken,
      contextName: opts.signIn.contextName,
      namespace: opts.signIn.namespace,
    });
    let written: LocalKubeconfigFile;
    try {
      written = writeLocalKubeconfig(yaml, opts.signIn.kubeconfigOut);
    } catch (e) {
      say(`cannot write the kubeconfig: ${(e as Error).message}`);
      await tap.close(0);
      await recorder?.close();
      stopWorker();
      return { exitCode: 2, reports };
    }
    const path = written.path;
    removeKubeconfig = written.remove;
    const user = opts.signIn.credentials.user.name;
    if (!opts.quiet) {
      say(`listening on ${tap.url}, signed in to ${upstreamUrl} as user "${user}" of context "${opts.signIn.contextName}"${recording}`);
      say(`kubeconfig for this tap (only it can use the tap): ${path}; in the shell that runs kubectl:`);
      opts.stderr.write(`export KUBECONFIG=${shellQuote(path)}\n`);
    }
    opts.onKubeconfig?.(path);
  } else {
    say(`listening on ${tap.url}, forwarding to ${upstreamUrl}${recording}`);
    say('point kubectl at the tap with this kubeconfig (keep your user entry; credentials pass through unchanged):');
    opts.stderr.write(indent(kubeconfigSnippet({ server: tap.url, caPem: tlsPair?.cert })));
  }
  opts.onListening?.(tap);

  await opts.stopped;
  if (!opts.quiet) say(`stopping: no new connections; open ones have ${(opts.graceMs / 1000).toFixed(1)} s to finish`);
  const closing = tap.close(opts.graceMs);
  if (opts.forced) await Promise.race([closing, opts.forced.then(() => tap.close(0))]);
  await closing;
  // Nothing can use the tap's token any more.
  removeKubeconfig();
  let summary: DecodeSummary | undefined;
  let unrendered = 0;
  let exitCode = 0;
  if (decoding) {
    summary = await decoding.finish();
    unrendered = decoding.unrendered;
  } else {
    const done = await worker!.finish();
    stopWorker();
    if ('message' in done) {
      say(`decoding failed: ${done.message}`);
      exitCode = 1;
    } else ({ summary, unrendered } = done);
  }
  await recorder?.close();
  const stats = tap.stats();
  if (unrendered > 0) say(`${unrendered} live events were not shown because the output fell behind`);
  if (stats.queue.droppedBytes > 0) {
    say(`decoding fell behind: ${stats.queue.droppedBytes} bytes were forwarded but not decoded (shown as gaps)`);
  }
  return { exitCode, stats, summary, reports };
}

/**
 * The forwarding thread's half of decoding on a worker: what the worker's
 * outputs write goes to `write`; `finish` asks for the last events and the
 * summary once every event has reached the worker.
 */
function workerDecoding(
  w: NonNullable<TapRunOptions['decodeWorker']>,
  say: (line: string) => void,
): { onMessage: (m: unknown) => void; finish: () => Promise<{ summary: DecodeSummary; unrendered: number } | { message: string }> } {
  let settle: ((r: { summary: DecodeSummary; unrendered: number } | { message: string }) => void) | undefined;
  let failure: string | undefined;
  const failed = (message: string) => {
    failure ??= message;
    settle?.({ message });
  };
  w.worker.on('error', (e) => failed(e.message));
  w.worker.on('exit', (code) => failed(`the decoding worker exited (${code})`));
  return {
    onMessage: (raw) => {
      const m = raw as TapWorkerMessage;
      switch (m?.tap) {
        case 'out':
          w.write(m.chunk);
          return;
        case 'say':
          say(m.line);
          return;
        case 'finished':
          settle?.({ summary: m.summary, unrendered: m.unrendered });
          return;
        case 'failed':
          failed(m.message);
          return;
      }
    },
    finish: () =>
      new Promise((resolve) => {
        if (failure !== undefined) return resolve({ message: failure });
        settle = resolve;
        w.worker.postMessage({ tap: 'finish' } satisfies TapWorkerRequest);
      }),
  };
}

/** Quoted for a POSIX shell when it needs to be. */
function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n');
}
