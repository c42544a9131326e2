/**
 * `kubewire decode <capture…|->`: sessions, streams and bytes of kubectl
 * exec, attach and port-forward traffic in pcap/pcapng files (merged by
 * time when several are given) or on stdin.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { runDecode, type DecodeArgs } from '../decode-run.js';
import { restoreStdinArg } from '../stdin-arg.js';
import { withOutputFilters, type OutputCliArgs } from './output-args.js';


export interface DecodeCliArgs extends OutputCliArgs {
  capture: string[];
  progress?: boolean;
  'clock-offset'?: string | string[];
  'tls-keylog'?: string | string[];
  path?: number;
}

export const decodeCommand: CommandModule<object, DecodeCliArgs> = {
  command: 'decode <capture..>',
  describe: 'Decode kubectl exec/attach/port-forward sessions in pcap or pcapng captures, merged by time ("-" reads stdin)',
  builder: (y: Argv) =>
    withOutputFilters(
      y
      .positional('capture', {
        type: 'string',
        describe: 'pcap or pcapng files (several are merged by time), or - for standard input (e.g. tcpdump -U -w -)',
        demandOption: true,
        array: true,
      })
      .option('summary', { type: 'boolean', describe: 'One block per session instead of the timeline' })
      .option('json', { type: 'boolean', describe: 'One JSON document (with --summary: the summary contract)' })
      .option('ndjson', { type: 'boolean', describe: 'One JSON event per line, written as it is decoded' })
      .option('follow', {
        type: 'boolean',
        describe: 'Interleaved stdin/stdout/stderr transcript, as a terminal would have shown it',
      }),
    )
      .option('tls-keylog', {
        type: 'string',
        requiresArg: true,
        describe: 'NSS key log file (SSLKEYLOGFILE) to decrypt TLS with; repeatable. With - it is re-read as it grows',
      })
      .option('path', {
        type: 'number',
        requiresArg: true,
        describe: 'Only the sessions of path N (one exec followed across its hops; see the summary), each event marked with its hop',
      })
      .option('clock-offset', {
        type: 'string',
        requiresArg: true,
        describe: 'FILE=±SECONDS: add SECONDS to the times of capture FILE (as given, or its basename) before merging; repeatable',
      })
      .option('progress', {
        type: 'boolean',
        describe: 'Progress on stderr (default: when stderr is a terminal and the output is not shown live on it)',
      })
      .example('$0 decode exec.pcap', 'Timeline of every session, stream and frame')
      .example('$0 decode exec.pcap --summary', 'One block per session: streams, bytes, resizes, exit status')
      .example('$0 decode exec.pcap --summary --json | jq .sessions[0].exit', 'The stable summary document')
      .example('tcpdump -i lo -U -w - port 6443 | $0 decode - --ndjson', 'Live: one JSON event per line as packets arrive')
      .example('$0 decode exec.pcapng --session 1 --follow', 'What the terminal showed, stdin and output interleaved')
      .example('$0 decode exec.pcap --role stdout --extract out/', 'Raw stream bytes as files, with out/index.json')
      .example('$0 decode exec.pcapng --html report.html', 'One HTML page to open in a browser: sessions, streams on a time axis, terminal replay')
      .example('$0 decode exec.pcapng --asciicast casts/', 'TTY sessions as asciicast files: asciinema play casts/session1.cast')
      .example('$0 decode api.pcapng node.pcap --summary', 'Several captures merged by time; each session names its files')
      .example('$0 decode a.pcap b.pcap --clock-offset b.pcap=-0.25', "b.pcap's clock was 250 ms ahead: correct it before merging")
      .example('$0 decode node.pcapng --path 1', 'The timeline of one exec across its hops (client → API server → kubelet → runtime)')
      .example('$0 decode late.pcap --decode-as v4.channel.k8s.io', 'A capture joined after the upgrade')
      .example('$0 decode https.pcapng --tls-keylog keys.txt', 'Decrypt TLS with a key log (also read from pcapng secrets blocks)') as unknown as Argv<DecodeCliArgs>,
  handler: async (argv: ArgumentsCamelCase<DecodeCliArgs>) => {
    process.exitCode = await runDecode(decodeArgs(argv));
  },
};

/** What the handler hands to runDecode, from what yargs parsed. */
export function decodeArgs(argv: ArgumentsCamelCase<DecodeCliArgs>): DecodeArgs {
  const captures = ([] as string[]).concat(argv.capture).map((c) => restoreStdinArg(String(c)));
  return {
    input: captures[0]!,
    ...(captures.length > 1 ? { inputs: captures } : {}),
    ...(argv['clock-offset'] !== undefined ? { clockOffset: ([] as string[]).concat(argv['clock-offset']) } : {}),
    summary: argv.summary ?? false,
    json: argv.json ?? false,
    ndjson: argv.ndjson ?? false,
    follow: argv.follow ?? false,
    session: argv.session,
    stream: argv.stream,
    role: argv.role,
    extract: argv.extract,
    asciicast: argv.asciicast,
    asciicastAll: argv['asciicast-all'],
    asciicastStdin: argv['asciicast-stdin'],
    html: argv.html,
    decodeAs: argv['decode-as'],
    showSecrets: argv['show-secrets'],
    bytes: argv.bytes,
    progress: argv.progress,
    tlsKeylog: argv['tls-keylog'] === undefined ? undefined : ([] as string[]).concat(argv['tls-keylog']),
    path: argv.path,
  };
}
