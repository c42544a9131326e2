#!/usr/bin/env node
/**
 * The `kubewire` executable. Usage errors exit 2 (scripts can tell them from
 * "decoded with diagnostics", which is 1).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { commands } from './commands/index.js';
import { EXIT_USAGE } from './exit-codes.js';
import { protectStdinArg } from './stdin-arg.js';
import { packageVersion } from './version.js';

export async function main(argv: string[]): Promise<void> {
  const parser = yargs(protectStdinArg(argv))
    .scriptName('kubewire')
    .usage('$0 <command> [options]')
    .command(commands)
    .demandCommand(1, 'Name a command (see kubewire --help).')
    .strict()
    .recommendCommands()
    .version(packageVersion())
    .alias('h', 'help')
    .alias('V', 'version')
    .wrap(process.stdout.isTTY ? Math.min(120, process.stdout.columns || 100) : 120)
    .fail((msg, err) => {
      if (err) {
        process.stderr.write(`kubewire: ${err.message}\n`);
      } else {
        process.stderr.write(`kubewire: ${msg}\nRun 'kubewire --help' or 'kubewire <command> --help' for usage.\n`);
      }
      process.exit(EXIT_USAGE);
    })
    .epilogue('Exit codes: 0 decoded cleanly, 1 decoded with diagnostics, 2 usage error or unreadable input.');
  skipHelpCache(parser);
  await parser.parseAsync();
}

/**
 * yargs renders the whole help text before it runs a command's handler, to
 * have it ready should the handler fail; that is about 50 ms of CPU per run,
 * a tenth of decoding a 100 MB capture. Our handlers report their own
 * failures, so the cache is never read (`--help` renders afresh).
 */
function skipHelpCache(parser: unknown): void {
  type Internals = { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } };
  const usage = (parser as Internals).getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};
}

function invokedDirectly(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  // A reader that stops early (`kubewire decode f --ndjson | head`) is not an
  // error: stop quietly, like the Unix tools do.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  main(hideBin(process.argv)).catch((e: unknown) => {
    process.stderr.write(`kubewire: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(EXIT_USAGE);
  });
}
