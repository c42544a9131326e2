import type { Argv } from 'yargs';

export const ROLES = ['stdin', 'stdout', 'stderr', 'error', 'resize', 'data'] as const;

/**
 * The output flags `decode` and `tap` share (they feed the same renderers).
 * No yargs defaults on the format flags: a default counts as given for
 * `conflicts`.
 */
export interface OutputCliArgs {
  summary?: boolean;
  json?: boolean;
  ndjson?: boolean;
  follow?: boolean;
  session?: number[];
  stream?: number[];
  role?: string[];
  extract?: string;
  asciicast?: string;
  'asciicast-all'?: boolean;
  'asciicast-stdin'?: boolean;
  html?: string;
  'decode-as'?: string[];
  'show-secrets': boolean;
  bytes: boolean;
}

/** The filters and switches both commands take after their format flags, and the format conflicts. */
export function withOutputFilters(y: Argv): Argv {
  return y
    .option('session', { type: 'number', array: true, describe: 'Only these sessions (numbers as in the output)' })
    .option('stream', { type: 'number', array: true, describe: 'Only these streams (SPDY stream id or WebSocket channel)' })
    .option('role', { type: 'string', array: true, choices: ROLES, describe: 'Only streams with these roles' })
    .option('extract', {
      type: 'string',
      describe: 'Write the raw bytes of every stream and direction to files in DIR, with index.json',
      normalize: true,
    })
    .option('asciicast', {
      type: 'string',
      describe: 'Write an asciicast v2 recording (asciinema play) of every TTY session to DIR/sessionN.cast',
      normalize: true,
    })
    .option('asciicast-all', { type: 'boolean', describe: 'With --asciicast: also record exec/attach sessions without a TTY' })
    .option('asciicast-stdin', { type: 'boolean', describe: 'With --asciicast: also record stdin (asciicast "i" events)' })
    .option('html', {
      type: 'string',
      describe: 'Write a self-contained HTML report (sessions, streams on a time axis, terminal replay) to FILE',
      normalize: true,
    })
    .option('decode-as', {
      type: 'string',
      array: true,
      describe:
        'Force the protocol: spdy, websocket or a channel protocol (v4.channel.k8s.io, portforward.k8s.io, …); ' +
        'CONN=PROTOCOL for one connection',
    })
    .option('show-secrets', {
      type: 'boolean',
      default: false,
      describe: 'Do not redact Authorization headers, bearer tokens and Sec-WebSocket-Key',
    })
    .option('bytes', { type: 'boolean', default: false, describe: 'Include stream payloads (base64) in --json/--ndjson events' })
    .conflicts('ndjson', ['json', 'summary', 'follow'])
    .conflicts('follow', ['json', 'summary']);
}
