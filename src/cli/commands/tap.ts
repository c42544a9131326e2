/**
 * `kubewire tap --upstream URL`: a forwarding proxy between kubectl and its
 * API server that changes no byte and decodes every session as it happens,
 * into the same outputs as `kubewire decode`.
 */
import { readFileSync } from 'node:fs';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { outputFormat, parseDecodeAs } from '../decode-run.js';
import { EXIT_USAGE } from '../exit-codes.js';
import { colorWanted, createOutput } from '../output/index.js';
import { parseListen, parseUpstream, type ListenAddress, type UpstreamAddress } from '../../tap/addresses.js';
import { runTap, type TapRunOptions } from '../../tap/run-tap.js';
import { withOutputFilters, type OutputCliArgs } from './output-args.js';

export interface TapCliArgs extends OutputCliArgs {
  listen: string;
  upstream: string;
  tls?: boolean;
  'tls-cert'?: string;
  'tls-key'?: string;
  'upstream-ca'?: string;
  insecure?: boolean;
  servername?: string;
  write?: string;
  grace: number;
  'max-decode-buffer': number;
}

export const tapCommand: CommandModule<object, TapCliArgs> = {
  command: 'tap',
  describe: 'Forward kubectl to its API server unchanged while decoding every session live',
  builder: (y: Argv) =>
    withOutputFilters(
      y
      .option('upstream', {
        type: 'string',
        demandOption: true,
        describe: 'The API server to forward to: http(s)://HOST:PORT',
      })
      .option('listen', {
        type: 'string',
        default: '127.0.0.1:0',
        describe: 'Where to accept: HOST:PORT, [IPv6]:PORT or PORT (loopback unless a host is named; 0 = any free port)',
      })
      .option('tls', {
        type: 'boolean',
        describe: 'TLS on the listener (default: when the upstream is https; kubectl sends tokens only over TLS)',
      })
      .option('tls-cert', { type: 'string', normalize: true, describe: 'PEM certificate for the listener (default: generated, self-signed)' })
      .option('tls-key', { type: 'string', normalize: true, describe: 'PEM private key of --tls-cert' })
      .option('upstream-ca', { type: 'string', normalize: true, describe: 'PEM CA to verify the upstream with (default: the system roots)' })
      .option('insecure', { type: 'boolean', describe: 'Do not verify the upstream certificate' })
      .option('servername', { type: 'string', describe: 'TLS server name to send and verify upstream (default: the upstream host)' })
      .option('write', { type: 'string', normalize: true, describe: 'Record what passes as pcapng (synthetic TCP framing, real timestamps)' })
      .option('grace', { type: 'number', default: 5, describe: 'Seconds open sessions may go on after SIGINT/SIGTERM (a second signal cuts them)' })
      .option('max-decode-buffer', {
        type: 'number',
        default: 64,
        describe: 'MiB the decoder may fall behind before bytes are skipped (shown as gaps; memory stays bounded)',
      })
      .option('summary', { type: 'boolean', describe: 'One block per session at exit instead of the timeline' })
      .option('json', { type: 'boolean', describe: 'One JSON document at exit (with --summary: the summary contract)' })
      .option('ndjson', { type: 'boolean', describe: 'One JSON event per line, as it happens' })
      .option('follow', { type: 'boolean', describe: 'Interleaved stdin/stdout/stderr transcript, as it happens' })
    )
      .conflicts('insecure', 'upstream-ca')
      .implies('tls-cert', 'tls-key')
      .implies('tls-key', 'tls-cert')
      .example('$0 tap --upstream https://127.0.0.1:6443 --upstream-ca ca.crt', 'TLS both sides; prints the kubeconfig to use')
      .example('$0 tap --upstream https://10.0.0.1:6443 --insecure --ndjson', 'One JSON event per line while kubectl runs')
      .example('$0 tap --upstream https://10.0.0.1:6443 --insecure --follow --write exec.pcapng', 'Live transcript, and a capture to decode later')
      .example('$0 tap --listen 8443 --upstream https://10.0.0.1:6443 --insecure --summary --json', 'The summary document when stopped (Ctrl-C)') as unknown as Argv<TapCliArgs>,
  handler: async (argv: ArgumentsCamelCase<TapCliArgs>) => {
    process.exitCode = await runTapCommand(argv);
  },
};

/** Parse, wire signals, run. Exported for tests that run the command in-process. */
export async function runTapCommand(
  args: TapCliArgs,
  io: { stdout: NodeJS.WritableStream & { isTTY?: boolean }; stderr: NodeJS.WritableStream; signals?: NodeJS.EventEmitter } = {
    stdout: process.stdout,
    stderr: process.stderr,
  },
): Promise<number> {
  let listen: ListenAddress;
  let upstream: UpstreamAddress;
  let tls: TapRunOptions['tls'];
  let upstreamCa: string | undefined;
  let decodeAs: ReturnType<typeof parseDecodeAs>;
  try {
    listen = parseListen(args.listen);
    upstream = parseUpstream(args.upstream);
    decodeAs = parseDecodeAs(args['decode-as']);
    if (args['tls-cert'] && args['tls-key']) {
      tls = { cert: readFileSync(args['tls-cert'], 'utf8'), key: readFileSync(args['tls-key'], 'utf8') };
    } else if (args.tls ?? upstream.protocol === 'https') {
      tls = 'self-signed';
    }
    if (args['upstream-ca']) upstreamCa = readFileSync(args['upstream-ca'], 'utf8');
    if (!(args.grace >= 0)) throw new Error('--grace must be a number of seconds ≥ 0');
    if (!(args['max-decode-buffer'] > 0)) throw new Error('--max-decode-buffer must be a positive number of MiB');
  } catch (e) {
    io.stderr.write(`kubewire tap: ${(e as Error).message}\n`);
    return EXIT_USAGE;
  }

  const format = outputFormat({
    summary: args.summary ?? false,
    json: args.json ?? false,
    ndjson: args.ndjson ?? false,
    follow: args.follow ?? false,
  });
  const output = createOutput({
    format,
    summaryJson: (args.summary ?? false) && (args.json ?? false),
    color: colorWanted(io.stdout, process.env),
    showSecrets: args['show-secrets'],
    filters: { session: args.session, stream: args.stream, role: args.role },
    extractDir: args.extract,
    stdout: io.stdout,
    bytes: args.bytes,
  });

  // First signal: orderly stop. Second: cut the grace period short.
  const signals = io.signals ?? process;
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
    const result = await runTap({
      listen,
      upstream,
      tls,
      upstreamCa,
      insecure: args.insecure ?? false,
      servername: args.servername,
      write: args.write,
      graceMs: args.grace * 1000,
      decoder: {
        decodeAs,
        showSecrets: args['show-secrets'],
        frameEvents: format === 'timeline' || format === 'json' || format === 'ndjson',
        digests: format === 'summary' || format === 'json',
      },
      output,
      stderr: io.stderr,
      stopped,
      forced,
      maxDecodeQueueBytes: args['max-decode-buffer'] * 1024 * 1024,
      outputBacklog: () => (io.stdout as { writableLength?: number }).writableLength ?? 0,
    });
    return result.exitCode;
  } finally {
    signals.off('SIGINT', onSignal);
    signals.off('SIGTERM', onSignal);
  }
}
