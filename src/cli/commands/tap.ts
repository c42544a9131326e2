/**
 * `kubewire tap`: a proxy between kubectl and its API server that decodes
 * every session live, into the same outputs as `kubewire decode`.
 *
 * - Signed in (the default): the tap connects upstream as the kubeconfig's
 *   user, as `kubectl proxy` does, and admits only the holder of a one-time
 *   token, which it writes into a kubeconfig of its own.
 * - `--upstream URL`: a plain forwarder that changes no byte; the client's
 *   own credentials pass through.
 * - `kubewire tap [options] -- COMMAND…`: runs COMMAND with KUBECONFIG
 *   pointing at the tap, and exits with its exit code.
 */
import { createWriteStream, readFileSync } from 'node:fs';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { outputFormat, parseDecodeAs } from '../decode-run.js';
import { EXIT_USAGE } from '../exit-codes.js';
import { colorWanted, createOutput } from '../output/index.js';
import { parseListen, parseUpstream, type ListenAddress, type UpstreamAddress } from '../../tap/addresses.js';
import { DEFAULT_MAX_OUTPUT_BACKLOG, runTap, type TapRunOptions } from '../../tap/run-tap.js';
import { pathsStage } from '../tap-paths-stage.js';
import { startTapDecodeWorker, useTapDecodeWorker } from '../tap-decode-worker-start.js';
import type { TapCliWorkerApp } from '../tap-decode-worker.js';
import { withOutputFilters, type OutputCliArgs } from './output-args.js';
import { runWrapped } from '../../tap/wrapper.js';
import { kubectlSelection } from '../../tap/kubectl-flags.js';

export interface TapCliArgs extends OutputCliArgs {
  listen: string;
  upstream?: string;
  kubeconfig?: string;
  context?: string;
  cluster?: string;
  user?: string;
  namespace?: string;
  'kubeconfig-out'?: string;
  'exec-timeout': number;
  tls?: boolean;
  'tls-cert'?: string;
  'tls-key'?: string;
  'tls-keylog'?: string;
  'upstream-ca'?: string;
  insecure?: boolean;
  servername?: string;
  write?: string;
  out?: string;
  grace: number;
  'max-decode-buffer': number;
  /** The command after `--` (wrapper mode). */
  '--'?: Array<string | number>;
}

/** Options of `tap` that take a value (for `kubectl wire`, which must find where kubectl's part begins). */
export const TAP_VALUE_OPTIONS = [
  'listen', 'upstream', 'kubeconfig', 'context', 'cluster', 'user', 'namespace', 'n', 'kubeconfig-out', 'exec-timeout',
  'tls-cert', 'tls-key', 'tls-keylog', 'upstream-ca', 'servername', 'write', 'out', 'grace', 'max-decode-buffer',
  'session', 'stream', 'role', 'extract', 'decode-as',
];

const SIGNED_IN_ONLY = ['kubeconfig', 'context', 'cluster', 'user', 'namespace', 'kubeconfig-out'] as const;

export const tapCommand: CommandModule<object, TapCliArgs> = {
  command: 'tap',
  describe: 'Watch kubectl live: a proxy that signs in as your kubeconfig user and decodes every session',
  builder: (y: Argv) =>
    withOutputFilters(
      y
        .usage('$0 tap [options] [-- COMMAND…]')
        .option('kubeconfig', { type: 'string', normalize: true, describe: 'kubeconfig file (default: $KUBECONFIG merged, else ~/.kube/config)' })
        .option('context', { type: 'string', describe: 'kubeconfig context to sign in as (default: current-context)' })
        .option('cluster', { type: 'string', describe: "kubeconfig cluster to use instead of the context's" })
        .option('user', { type: 'string', describe: "kubeconfig user to sign in as instead of the context's" })
        .option('namespace', { alias: 'n', type: 'string', describe: "Namespace of the tap's kubeconfig context (default: the context's)" })
        .option('kubeconfig-out', { type: 'string', normalize: true, describe: "Write the tap's kubeconfig here, mode 0600 (default: a private temp file)" })
        .option('exec-timeout', { type: 'number', default: 60, describe: 'Seconds an exec credential plugin may take' })
        .option('upstream', {
          type: 'string',
          describe: 'Forward to this API server as a plain proxy instead (http(s)://HOST:PORT); bearer tokens pass through, client certificates cannot',
        })
        .option('listen', {
          type: 'string',
          default: '127.0.0.1:0',
          describe: 'Where to accept: HOST:PORT, [IPv6]:PORT or PORT (loopback unless a host is named; 0 = any free port)',
        })
        .option('tls', {
          type: 'boolean',
          describe: 'With --upstream: TLS on the listener (default: when the upstream is https). Always on when signed in',
        })
        .option('tls-cert', { type: 'string', normalize: true, describe: 'PEM certificate for the listener (default: generated, self-signed)' })
        .option('tls-key', { type: 'string', normalize: true, describe: 'PEM private key of --tls-cert' })
        .option('tls-keylog', { type: 'string', normalize: true, describe: 'Append the TLS secrets of both sides here (NSS key log, for Wireshark or decode)' })
        .option('upstream-ca', { type: 'string', normalize: true, describe: 'With --upstream: PEM CA to verify it with (default: the system roots)' })
        .option('insecure', { type: 'boolean', describe: 'With --upstream: do not verify the upstream certificate' })
        .option('servername', { type: 'string', describe: 'With --upstream: TLS server name to send and verify (default: the upstream host)' })
        .option('write', { type: 'string', normalize: true, describe: 'Record what passes as pcapng (synthetic TCP framing, real timestamps)' })
        .option('out', { type: 'string', normalize: true, describe: 'Write the output here instead of stdout (with a COMMAND: instead of stderr)' })
        .option('grace', { type: 'number', default: 5, describe: 'Seconds open sessions may go on after SIGINT/SIGTERM (a second signal cuts them)' })
        .option('max-decode-buffer', {
          type: 'number',
          default: 64,
          describe: 'MiB the decoder may fall behind before bytes are skipped (shown as gaps; memory stays bounded)',
        })
        .option('summary', { type: 'boolean', describe: 'One block per session at exit (the default with a COMMAND)' })
        .option('json', { type: 'boolean', describe: 'One JSON document at exit (with --summary: the summary contract)' })
        .option('ndjson', { type: 'boolean', describe: 'One JSON event per line, as it happens' })
        .option('follow', { type: 'boolean', describe: 'Interleaved stdin/stdout/stderr transcript, as it happens' }),
    )
      .parserConfiguration({ 'populate--': true })
      .conflicts('insecure', 'upstream-ca')
      .conflicts('upstream', [...SIGNED_IN_ONLY])
      .implies('tls-cert', 'tls-key')
      .implies('tls-key', 'tls-cert')
      .example('$0 tap --summary -- kubectl exec -it web -- sh', 'Run kubectl through the tap; the summary goes to stderr at the end')
      .example('$0 tap --follow --out exec.txt -- kubectl exec web -- tar c /data > data.tar', "kubectl's stdout stays kubectl's")
      .example('$0 tap --context prod --ndjson', 'Sign in as the prod context; prints the KUBECONFIG to export in another shell')
      .example('kubectl wire exec -it web -- sh', 'The same as a kubectl plugin (kubewire options go before the subcommand)')
      .example('$0 tap --upstream https://10.0.0.1:6443 --insecure --write exec.pcapng', 'A plain forwarder: credentials pass through')
      .epilogue(
        'Unlike `kubectl proxy`, which lets any local process act as you, the tap admits only the holder of a ' +
          'one-time token written into its own kubeconfig (mode 0600), and passes exec, attach and port-forward ' +
          'byte for byte. Exit codes: 0 stopped cleanly, 2 usage error or unusable kubeconfig; with a COMMAND, its exit code.',
      ) as unknown as Argv<TapCliArgs>,
  handler: async (argv: ArgumentsCamelCase<TapCliArgs>) => {
    process.exitCode = await runTapCommand(argv);
  },
};

type Io = { stdout: NodeJS.WritableStream & { isTTY?: boolean }; stderr: NodeJS.WritableStream & { isTTY?: boolean }; signals?: NodeJS.EventEmitter };

/** Parse, wire signals, run. Exported for tests that run the command in-process. */
export async function runTapCommand(args: TapCliArgs, io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const say = (line: string) => io.stderr.write(`kubewire tap: ${line}\n`);
  const command = (args['--'] ?? []).map(String);
  let listen: ListenAddress;
  let upstream: UpstreamAddress;
  let tls: TapRunOptions['tls'];
  let upstreamCa: string | Buffer | undefined;
  let decodeAs: ReturnType<typeof parseDecodeAs>;
  let signIn: TapRunOptions['signIn'];
  let insecure = args.insecure ?? false;
  let servername = args.servername;
  try {
    listen = parseListen(args.listen);
    decodeAs = parseDecodeAs(args['decode-as']);
    if (args['tls-cert'] && args['tls-key']) {
      tls = { cert: readFileSync(args['tls-cert'], 'utf8'), key: readFileSync(args['tls-key'], 'utf8') };
    }
    if (!(args.grace >= 0)) throw new Error('--grace must be a number of seconds ≥ 0');
    if (!(args['max-decode-buffer'] > 0)) throw new Error('--max-decode-buffer must be a positive number of MiB');
    const execTimeout = args['exec-timeout'] ?? 60;
    if (!(execTimeout > 0)) throw new Error('--exec-timeout must be a positive number of seconds');
    if (args.upstream) {
      upstream = parseUpstream(args.upstream);
      if (!tls && (args.tls ?? upstream.protocol === 'https')) tls = 'self-signed';
      if (args['upstream-ca']) upstreamCa = readFileSync(args['upstream-ca'], 'utf8');
    } else {
      const { prepareSignIn } = await import('../../tap/sign-in.js');
      // A wrapped kubectl's own --context/--kubeconfig/… choose the upstream, as they would for kubectl.
      const fromCommand = kubectlSelection(command);
      const setup = await prepareSignIn({
        kubeconfig: args.kubeconfig ?? fromCommand.selection.kubeconfig,
        context: args.context ?? fromCommand.selection.context,
        cluster: args.cluster ?? fromCommand.selection.cluster,
        user: args.user ?? fromCommand.selection.user,
        namespace: args.namespace ?? fromCommand.selection.namespace,
        kubeconfigOut: args['kubeconfig-out'],
        execTimeoutMs: execTimeout * 1000,
      });
      command.splice(0, command.length, ...fromCommand.command);
      upstream = setup.upstream;
      upstreamCa = setup.upstreamCa;
      insecure = setup.insecure;
      servername = setup.servername;
      signIn = setup.signIn;
      tls ??= 'self-signed';
    }
  } catch (e) {
    say((e as Error).message);
    return EXIT_USAGE;
  }

  const wrapped = command.length > 0;
  // With a COMMAND, stdout is the command's: ours goes to --out or stderr.
  let dest: NodeJS.WritableStream & { isTTY?: boolean } = wrapped ? io.stderr : io.stdout;
  let outFile: ReturnType<typeof createWriteStream> | undefined;
  if (args.out) {
    outFile = createWriteStream(args.out);
    try {
      await new Promise<void>((resolve, reject) => {
        outFile!.once('open', () => resolve());
        outFile!.once('error', reject);
      });
    } catch (e) {
      say(`cannot write ${args.out}: ${(e as Error).message}`);
      return EXIT_USAGE;
    }
    dest = outFile;
  }
  const anyFormat = args.summary || args.json || args.ndjson || args.follow;
  const summary = args.summary ?? (wrapped && !anyFormat);
  const format = outputFormat({ summary, json: args.json ?? false, ndjson: args.ndjson ?? false, follow: args.follow ?? false });
  const outputOptions: TapCliWorkerApp['output'] = {
    format,
    summaryJson: summary && (args.json ?? false),
    color: colorWanted(dest, process.env),
    showSecrets: args['show-secrets'] ?? false,
    filters: { session: args.session, stream: args.stream, role: args.role },
    extractDir: args.extract,
    asciicast: args.asciicast ? { dir: args.asciicast, all: args['asciicast-all'] ?? false, stdin: args['asciicast-stdin'] ?? false } : undefined,
    html: args.html ? { file: args.html, input: 'kubewire tap' } : undefined,
    bytes: args.bytes,
  };
  // Paths, as decode links them: the summary of a tap equals that of its recording decoded.
  const linking = format === 'summary' || format === 'json';
  const pathsInput = linking ? (args.write ?? 'kubewire tap') : undefined;
  const decoder: TapRunOptions['decoder'] = {
    decodeAs,
    showSecrets: args['show-secrets'],
    frameEvents: format === 'timeline' || format === 'json' || format === 'ndjson',
    digests: format === 'summary' || format === 'json',
  };
  const outputBacklog = () => (dest as { writableLength?: number }).writableLength ?? 0;
  const maxDecodeQueueBytes = args['max-decode-buffer'] * 1024 * 1024;
  let decoding: Pick<TapRunOptions, 'output' | 'summaryStage' | 'decodeWorker'>;
  if (useTapDecodeWorker(process.env)) {
    // Decoding and the outputs run on a worker; what they write comes back here, to `dest`, in order.
    const backlog = new Int32Array(new SharedArrayBuffer(4));
    const noteBacklog = () => Atomics.store(backlog, 0, Math.min(outputBacklog(), 0x7fffffff));
    const app: TapCliWorkerApp = { output: outputOptions, paths: pathsInput };
    const worker = startTapDecodeWorker({ decoder, write: args.write, backlog: backlog.buffer as SharedArrayBuffer, maxOutputBacklogBytes: DEFAULT_MAX_OUTPUT_BACKLOG, app });
    decoding = {
      decodeWorker: {
        worker,
        write: (chunk) => {
          dest.write(chunk, noteBacklog);
          noteBacklog();
        },
      },
    };
  } else {
    decoding = {
      output: createOutput({ ...outputOptions, stdout: dest }),
      summaryStage: pathsInput !== undefined ? await pathsStage(pathsInput) : undefined,
    };
  }
  const base: Omit<TapRunOptions, 'stopped' | 'forced'> = {
    ...decoding,
    listen,
    upstream,
    tls,
    upstreamCa: upstreamCa as string | undefined,
    insecure,
    servername,
    signIn,
    keylogFile: args['tls-keylog'],
    write: args.write,
    graceMs: args.grace * 1000,
    decoder,
    stderr: io.stderr,
    maxDecodeQueueBytes,
    outputBacklog,
  };
  try {
    if (wrapped) return await runWrapped(command, base, io.signals ?? process);
    return await runUntilSignalled(base, io.signals ?? process);
  } finally {
    if (outFile) await new Promise<void>((resolve) => outFile!.end(resolve));
  }
}

/** First signal: orderly stop. Second: cut the grace period short. */
async function runUntilSignalled(base: Omit<TapRunOptions, 'stopped' | 'forced'>, signals: NodeJS.EventEmitter): Promise<number> {
  let signalled = 0;
  let stop!: () => void;
  let force!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const forced = new Promise<void>((resolve) => (force = resolve));
  const onSignal = () => {
    signalled++;
    if (signalled === 1) stop();
    else force();
  };
  signals.on('SIGINT', onSignal);
  signals.on('SIGTERM', onSignal);
  try {
    return (await runTap({ ...base, stopped, forced })).exitCode;
  } finally {
    signals.off('SIGINT', onSignal);
    signals.off('SIGTERM', onSignal);
  }
}

