/**
 * The I/O edge of `kubewire decode`: read the capture (file or stdin), run it
 * through capture → TCP → session decoding, hand events to the output, pick
 * the exit code (0 clean, 1 diagnostics, 2 usage or unreadable input).
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
// Modules, not package barrels: start-up loads only what a decode runs.
import { CaptureDecoder, decoderChunks } from '../tcp/pipeline.js';
import type { DecodeAs, DecodeSummary, TimelineEvent } from '../timeline/index.js';
import { SessionDecoder } from '../timeline/session-decoder.js';
import { SECRETS_TLS_KEY_LOG } from '../capture/types.js';
import { EXIT_DIAGNOSTICS, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { colorWanted } from './output/color.js';
import { loadOutput } from './output/load.js';
import type { OutputFormat } from './output/types.js';
import { printable } from '../common/printable.js';
import { digestWorkerFor, wantsDigests } from './decode-digests.js';
import type { WorkerDigests } from './digest-worker.js';

export interface DecodeArgs {
  /** The capture, or the first of several. */
  input: string;
  /** Several captures (all of them, `input` first), merged by time. */
  inputs?: string[];
  /** `--clock-offset FILE=±SECONDS`, repeatable. */
  clockOffset?: string[];
  summary: boolean;
  json: boolean;
  ndjson: boolean;
  follow: boolean;
  session?: number[];
  stream?: number[];
  role?: string[];
  extract?: string;
  /** `--asciicast DIR`, with `--asciicast-all` and `--asciicast-stdin`. */
  asciicast?: string;
  asciicastAll?: boolean;
  asciicastStdin?: boolean;
  /** `--html FILE`. */
  html?: string;
  decodeAs?: string[];
  showSecrets: boolean;
  bytes: boolean;
  progress?: boolean;
  /** NSS key log files for TLS (`--tls-keylog`, repeatable). */
  tlsKeylog?: string[];
  /** `--path N`: only the sessions of path N, each event marked with its hop. */
  path?: number;
}

export interface DecodeIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  stdinIsTTY?: boolean;
  /** Bytes per file read (default 1 MiB); tests make it small to recycle buffers often. */
  readChunkBytes?: number;
  /** The digest worker, when the caller started it ahead (null: hash inline); by default runDecode decides. */
  digestWorker?: WorkerDigests | null;
}

const DEFAULT_IO: DecodeIo = { stdout: process.stdout, stderr: process.stderr, env: process.env, stdinIsTTY: process.stdin.isTTY === true };

export class UsageError extends Error {}

/** `--decode-as` values: `PROTO` for every connection, `CONN=PROTO` for one. */
export function parseDecodeAs(values: string[] | undefined): Map<number, DecodeAs> | DecodeAs | undefined {
  if (!values || values.length === 0) return undefined;
  let all: DecodeAs | undefined;
  const per = new Map<number, DecodeAs>();
  for (const v of values) {
    const m = /^(\d+)=(.+)$/.exec(v);
    if (m) per.set(Number(m[1]), m[2]!);
    else if (v.trim()) {
      if (all !== undefined && all !== v) throw new UsageError(`--decode-as: two protocols for every connection (${all}, ${v}); use CONN=PROTOCOL`);
      all = v.trim();
    } else throw new UsageError('--decode-as: empty value');
  }
  if (per.size === 0) return all;
  if (all !== undefined) throw new UsageError('--decode-as: mix of PROTOCOL and CONN=PROTOCOL; give every connection its own');
  return per;
}

export function outputFormat(a: Pick<DecodeArgs, 'summary' | 'json' | 'ndjson' | 'follow'>): OutputFormat {
  if (a.ndjson) return 'ndjson';
  if (a.follow) return 'follow';
  if (a.summary) return 'summary';
  if (a.json) return 'json';
  return 'timeline';
}

export async function runDecode(args: DecodeArgs, io: DecodeIo = DEFAULT_IO): Promise<number> {
  let decodeAs: ReturnType<typeof parseDecodeAs>;
  try {
    decodeAs = parseDecodeAs(args.decodeAs);
  } catch (e) {
    io.stderr.write(`kubewire decode: ${(e as Error).message}\n`);
    return EXIT_USAGE;
  }
  let total: number | null = null;
  // Several captures, or a clock correction: merged by time (decode-merged.ts).
  let merge: import('./decode-merged.js').MergePlan | null = null;
  if (args.inputs !== undefined || args.clockOffset !== undefined) {
    try {
      merge = (await import('./decode-merged.js')).planMerge(args.inputs ?? [args.input], args.clockOffset ?? []);
    } catch (e) {
      io.stderr.write(`kubewire decode: ${(e as Error).message}\n`);
      return EXIT_USAGE;
    }
    total = merge.total;
  }
  if (args.input === '-' && io.stdinIsTTY) {
    io.stderr.write('kubewire decode: standard input is a terminal; pipe a capture in (tcpdump -U -w - … | kubewire decode -)\n');
    return EXIT_USAGE;
  }
  if (args.input !== '-' && merge === null) {
    try {
      const st = statSync(args.input);
      if (!st.isFile() && !st.isFIFO()) throw new Error('not a file');
      total = st.isFile() ? st.size : null;
    } catch (e) {
      io.stderr.write(`kubewire decode: cannot read ${args.input}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
      return EXIT_USAGE;
    }
  }

  // TLS secrets: key log files, and pcapng Decryption Secrets Blocks as they are read
  let keyFiles: import('./tls-keylog-files.js').KeyLogFiles | null = null;
  let keys: import('../tls/keylog.js').TlsKeyLog;
  try {
    if (args.tlsKeylog && args.tlsKeylog.length > 0) {
      keyFiles = (await import('./tls-keylog-files.js')).openKeyLogFiles(args.tlsKeylog, args.input === '-');
      keys = keyFiles.keys;
    } else keys = new (await import('../tls/keylog.js')).TlsKeyLog();
  } catch (e) {
    io.stderr.write(`kubewire decode: --tls-keylog: ${(e as Error).message}\n`);
    return EXIT_USAGE;
  }
  const format = outputFormat(args);
  // Digests are only shown by the summary and the JSON document.
  const wantDigests = wantsDigests(args);
  // Started before the outputs load (if the caller did not), so that the worker boots meanwhile.
  let digestWorker = io.digestWorker !== undefined ? io.digestWorker : digestWorkerFor(args, io.env);
  if (!wantDigests && digestWorker) {
    void digestWorker.close();
    digestWorker = null;
  }
  const decoderOptions = { decodeAs, showSecrets: args.showSecrets, tlsKeys: keys };
  // --path N: a first pass links the sessions; the output then shows path N's
  let onePath: Awaited<ReturnType<typeof import('./paths-run.js').pathSessions>> | null = null;
  if (args.path !== undefined) {
    if (args.input === '-') {
      io.stderr.write('kubewire decode: --path reads the capture twice; give a file, not standard input\n');
      keyFiles?.close();
      return EXIT_USAGE;
    }
    onePath = await (await import('./paths-run.js')).pathSessions(args.input, args.path, decoderOptions, keys, merge);
    if ('error' in onePath) {
      io.stderr.write(`kubewire decode: ${onePath.error}\n`);
      keyFiles?.close();
      return EXIT_USAGE;
    }
  }
  const pathSessionList = onePath && !('error' in onePath) ? onePath.sessions.filter((n) => !args.session?.length || args.session.includes(n)) : null;
  // session 0 never exists: --path and --session with nothing in common show nothing
  const sessionFilter = pathSessionList ? (pathSessionList.length ? pathSessionList : [0]) : args.session;
  // Paths are shown by the summary, the JSON document and the HTML report.
  const linking = format === 'summary' || format === 'json' || args.html !== undefined;
  const paths = linking ? await import('./paths-run.js') : null;
  const recorder = paths ? new (await import('../paths/recorder.js')).PathRecorder() : null;
  const output = await loadOutput({
    format,
    summaryJson: args.summary && args.json,
    tlsKeysGiven: () => keys.size > 0,
    color: colorWanted(io.stdout, io.env),
    showSecrets: args.showSecrets,
    filters: { session: sessionFilter, stream: args.stream, role: args.role },
    hopMarks: onePath && !('error' in onePath) ? onePath.marks : undefined,
    extractDir: args.extract,
    asciicast: args.asciicast ? { dir: args.asciicast, all: args.asciicastAll ?? false, stdin: args.asciicastStdin ?? false } : undefined,
    html: args.html ? { file: args.html, input: args.input === '-' ? 'standard input' : (args.inputs ?? [args.input]).map((f) => basename(f)).join(', ') } : undefined,
    stdout: io.stdout,
    bytes: args.bytes,
  });
  const decoder = new SessionDecoder({
    ...decoderOptions,
    // Frames are only shown by the timeline and the JSON forms.
    frameEvents: format === 'timeline' || format === 'json' || format === 'ndjson',
    // Only the summary is shown: bulk DATA is counted in pieces, not copied whole.
    dataPieces: format === 'summary' && !args.extract && !args.html && !args.asciicast,
    digests: digestWorker ?? wantDigests,
    inputNames: args.inputs ?? [args.input],
  });
  let firstDiagnostic: string | null = null;
  const deliver = (events: TimelineEvent[]) => {
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      if (ev.kind === 'diagnostic' && firstDiagnostic === null) firstDiagnostic = `${ev.error.code}: ${ev.error.message}`;
      recorder?.event(ev);
      output.event(ev);
    }
  };
  // On a terminal, progress shares the screen with the output: only when the
  // output waits for the end (summary, JSON) or goes elsewhere.
  const outputIsLive = io.stdout.isTTY === true && (format === 'timeline' || format === 'ndjson' || format === 'follow');
  const showProgress = args.progress ?? (io.stderr.isTTY === true && !outputIsLive);
  const progress = showProgress ? (await import('./progress.js')).createProgress(io.stderr, total, args.progress === true) : null;

  // the paths, linked once every session is in
  const finishSummary = (summary: DecodeSummary): DecodeSummary => {
    if (!paths || !recorder) return summary;
    const linked = paths.withPaths(summary, paths.linkSummary(summary, recorder, args.input));
    if (args.path !== undefined) linked.paths = linked.paths.filter((p) => p.path === args.path);
    return linked;
  };
  if (merge !== null) {
    return (await import('./decode-merged.js')).runMerged(merge, { io, decoder, deliver, output, keys, progress, closeKeys: () => keyFiles?.close(), finishSummary });
  }
  const reader = new CaptureDecoder((ev) => deliver(decoder.push(ev)), {
    onSecrets: (s) => {
      if (s.secretsType === SECRETS_TLS_KEY_LOG) keys.addSecretsBlock(s.data);
    },
  });
  try {
    // A file is read into a few recycled buffers: fresh ones cost page faults
    // (reading ten times the CPU) and pile up until the GC notices. Safe
    // because every layer above the reader copies what it keeps (the events'
    // views are valid only until the next call into the decoders).
    for await (const chunk of decoderChunks(args.input, reader, { chunkSize: io.readChunkBytes })) {
      reader.push(chunk);
      progress?.update(chunk.length);
      if (reader.done) break;
    }
    reader.end();
  } catch (e) {
    progress?.done();
    keyFiles?.close();
    void digestWorker?.close();
    io.stderr.write(`kubewire decode: cannot read ${args.input === '-' ? 'standard input' : args.input}: ${(e as Error).message}\n`);
    return EXIT_USAGE;
  }
  const capture = reader.summary;
  deliver(decoder.finish());
  progress?.done();
  keyFiles?.close();
  if (keys.stats.malformed > 0) {
    io.stderr.write(`kubewire decode: warning: ${keys.stats.malformed} malformed TLS key log line${keys.stats.malformed === 1 ? '' : 's'} skipped\n`);
  }
  if (capture.failed && capture.packets === 0) {
    // Nothing was decoded: no output document, only the reason.
    void digestWorker?.close();
    const first = firstDiagnostic === null ? null : printable(firstDiagnostic);
    io.stderr.write(
      `kubewire decode: ${args.input === '-' ? 'standard input' : args.input} is not a readable pcap or pcapng capture${first ? ` (${first})` : ''}\n`,
    );
    return EXIT_USAGE;
  }
  if (digestWorker) {
    await digestWorker.settle();
    void digestWorker.close();
  }
  await output.finish(finishSummary(decoder.summary()));
  return decoder.diagnosticCount > 0 || capture.diagnostics > 0 ? EXIT_DIAGNOSTICS : EXIT_OK;
}
