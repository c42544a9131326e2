/**
 * A shortcut past yargs for the commonest command lines: `decode <capture>`
 * with only on/off options (`--summary --json`, `--ndjson`, …) and key logs
 * (`--tls-keylog FILE`, repeatable). Loading and
 * running yargs costs about 70 ms of CPU, a fifth of decoding a 100 MB
 * capture. Anything else (help, version, options with values, typos, repeats,
 * conflicts, `--`, a capture named like a boolean) returns null and goes
 * through yargs, which then prints exactly what it always printed. A property
 * test checks that whatever this accepts, yargs parses to the same arguments.
 */
import type { DecodeArgs } from './decode-run.js';

type Switch = 'summary' | 'json' | 'ndjson' | 'follow' | 'showSecrets' | 'bytes' | 'progress';

const SWITCHES: ReadonlyMap<string, Switch> = new Map<string, Switch>([
  ['summary', 'summary'],
  ['json', 'json'],
  ['ndjson', 'ndjson'],
  ['follow', 'follow'],
  ['show-secrets', 'showSecrets'],
  ['bytes', 'bytes'],
  ['progress', 'progress'],
]);

/** The `decode` arguments when yargs would surely parse `argv` to them, else null. */
export function fastDecodeArgs(argv: readonly string[]): DecodeArgs | null {
  if (argv[0] !== 'decode') return null;
  let capture: string | undefined;
  const set = new Map<Switch, boolean>();
  const keylogs: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--tls-keylog') {
      // a plain file name only: yargs reads `-x`, `--x`, `-` and the like its own ways
      const v = argv[++i];
      if (v === undefined || !plainValue(v)) return null;
      keylogs.push(v);
    } else if (a.startsWith('--')) {
      const negated = a.startsWith('--no-');
      const key = SWITCHES.get(a.slice(negated ? 5 : 2));
      if (key === undefined || set.has(key)) return null;
      set.set(key, !negated);
    } else if (a === '-' || (a !== '' && !a.startsWith('-'))) {
      // yargs reads `true`/`false` after an on/off option as its value.
      if (capture !== undefined || /^(true|false)$/i.test(a)) return null;
      capture = a;
    } else {
      return null;
    }
  }
  if (capture === undefined) return null;
  // Conflicting options: yargs words the error.
  if (set.has('ndjson') && (set.has('json') || set.has('summary') || set.has('follow'))) return null;
  if (set.has('follow') && (set.has('json') || set.has('summary'))) return null;
  return {
    input: capture,
    summary: set.get('summary') ?? false,
    json: set.get('json') ?? false,
    ndjson: set.get('ndjson') ?? false,
    follow: set.get('follow') ?? false,
    session: undefined,
    stream: undefined,
    role: undefined,
    extract: undefined,
    asciicast: undefined,
    asciicastAll: undefined,
    asciicastStdin: undefined,
    html: undefined,
    decodeAs: undefined,
    showSecrets: set.get('showSecrets') ?? false,
    bytes: set.get('bytes') ?? false,
    progress: set.get('progress'),
    ...(keylogs.length > 0 ? { tlsKeylog: keylogs } : {}),
  };
}

/** A value yargs takes as it is: not empty, not an option, not a boolean or a number. */
function plainValue(v: string): boolean {
  return /^[A-Za-z0-9_./][^\s]*$/.test(v) && !/^(true|false)$/i.test(v) && !/^[\d.]/.test(v);
}
