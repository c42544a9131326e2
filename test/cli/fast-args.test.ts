/**
 * The start-up shortcut past yargs: whatever command line it accepts, yargs
 * parses to the very same decode arguments; and the lines it must leave to
 * yargs (help, errors, options with values) it leaves.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ArgumentsCamelCase } from 'yargs';
import { decodeArgs, decodeCommand, type DecodeCliArgs } from '../../src/cli/commands/decode.js';
import type { DecodeArgs } from '../../src/cli/decode-run.js';
import { fastDecodeArgs } from '../../src/cli/fast-args.js';
import { buildParser } from '../../src/cli/main.js';

/** What yargs hands the decode handler for `argv`, or the error it reports. */
async function viaYargs(argv: string[]): Promise<DecodeArgs | { error: string }> {
  let got: DecodeArgs | undefined;
  const command = { ...decodeCommand, handler: (a: ArgumentsCamelCase) => void (got = decodeArgs(a as ArgumentsCamelCase<DecodeCliArgs>)) };
  const parser = (await buildParser(argv, [command])).exitProcess(false).fail((msg, err) => {
    throw new Error(err?.message ?? msg);
  });
  try {
    await parser.parseAsync();
  } catch (e) {
    return { error: (e as Error).message };
  }
  return got ?? { error: 'handler not run' };
}

const TOKENS = [
  '--summary', '--no-summary', '--json', '--no-json', '--ndjson', '--follow', '--no-follow', '--show-secrets',
  '--no-show-secrets', '--bytes', '--progress', '--no-progress', 'cap.pcap', 'x', '-', '5', 'true', 'FALSE', '',
  '--', '-h', '--help', '-V', '--version', '--session', '1', '--role', 'stdout', '--bogus', '--summary=true',
  '--showSecrets', '-s', '--decode-as', 'spdy', '--extract', 'out', '--tls-keylog', 'keys.txt', 'k/2.log',
  '--tls-keylog=keys.txt', '--no-tls-keylog', '1.5', 'x y',
];

describe('fastDecodeArgs', () => {
  it('gives what yargs gives for the common lines', async () => {
    const lines = [
      ['decode', 'cap.pcap'],
      ['decode', 'cap.pcap', '--summary', '--json'],
      ['decode', '--summary', 'cap.pcap', '--json'],
      ['decode', '-', '--ndjson'],
      ['decode', 'cap.pcap', '--follow', '--no-progress', '--show-secrets'],
      ['decode', 'cap.pcap', '--json', '--bytes', '--progress'],
      ['decode', 'cap.pcap', '--tls-keylog', 'keys.txt', '--summary', '--json'],
      ['decode', '--tls-keylog', 'a.txt', 'cap.pcap', '--tls-keylog', 'dir/b.txt'],
    ];
    for (const argv of lines) {
      const fast = fastDecodeArgs(argv);
      expect(fast, argv.join(' ')).not.toBeNull();
      expect(await viaYargs(argv), argv.join(' ')).toEqual(fast);
    }
  });

  it('leaves help, version, valued options, conflicts, repeats and other commands to yargs', () => {
    const lines = [
      ['decode', '--help', 'cap.pcap'],
      ['decode', 'cap.pcap', '-h'],
      ['--version'],
      ['decode'],
      ['decode', 'a', 'b'],
      ['decode', 'cap.pcap', '--session', '1'],
      ['decode', 'cap.pcap', '--tls-keylog'],
      ['decode', 'cap.pcap', '--tls-keylog', '-'],
      ['decode', 'cap.pcap', '--tls-keylog=keys.txt'],
      ['decode', 'cap.pcap', '--ndjson', '--json'],
      ['decode', 'cap.pcap', '--follow', '--summary'],
      ['decode', 'cap.pcap', '--json', '--json'],
      ['decode', 'cap.pcap', '--summary', 'false'],
      ['decode', 'cap.pcap', '--', 'x'],
      ['decod', 'cap.pcap'],
      ['serve'],
    ];
    for (const argv of lines) expect(fastDecodeArgs(argv), argv.join(' ')).toBeNull();
  });

  it('accepts nothing yargs would parse differently or refuse', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...TOKENS), { maxLength: 6 }), async (rest) => {
        const argv = ['decode', ...rest];
        const fast = fastDecodeArgs(argv);
        if (fast === null) return;
        expect(await viaYargs(argv)).toEqual(fast);
      }),
      { numRuns: 600 },
    );
  });
});
