#!/usr/bin/env node
/**
 * The `kubewire` executable. Usage errors exit 2 (scripts can tell them from
 * "decoded with diagnostics", which is 1).
 */
import { createRequire } from 'node:module';
import type { Argv, CommandModule } from 'yargs';
import { EXIT_USAGE } from './exit-codes.js';
import { isEntryPoint } from './entry-point.js';
import { fastDecodeArgs } from './fast-args.js';

export async function main(argv: string[]): Promise<void> {
  // yargs, the other commands and the renderers are loaded only when needed:
  // start-up is a large share of decoding even a 100 MB capture.
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    // What yargs prints, without loading it (scripts call this often).
    const { packageVersion } = await import('./version.js');
    process.stdout.write(`${packageVersion()}\n`);
    return;
  }
  const fast = fastDecodeArgs(argv);
  if (fast) {
    // The digest worker boots on the other core while this one loads the decoder.
    const { digestWorkerFor } = await import('./decode-digests.js');
    const digestWorker = digestWorkerFor(fast, process.env);
    const { runDecode } = await loadDecodeRun();
    process.exitCode = await runDecode(fast, { stdout: process.stdout, stderr: process.stderr, env: process.env, stdinIsTTY: process.stdin.isTTY === true, digestWorker });
    return;
  }
  const { commands } = await import('./commands/index.js');
  const parser = await buildParser(argv, commands);
  skipHelpCache(parser);
  await parser.parseAsync();
}

/**
 * The decoder's ~70 modules. Where Node can `require` ES modules (20.19+,
 * 22.12+), that loads them synchronously, about 10 ms sooner than `import()`,
 * whose loader waits on the thread pool for every file; elsewhere `import()`.
 * In the bundle (dist/bin, where the build defines KUBEWIRE_BUNDLE) they are
 * one chunk, which `import()` loads.
 */
async function loadDecodeRun(): Promise<typeof import('./decode-run.js')> {
  if (process.env.KUBEWIRE_BUNDLE !== '1' && (process.features as { require_module?: boolean }).require_module === true) {
    try {
      return createRequire(import.meta.url)('./decode-run.js') as typeof import('./decode-run.js');
    } catch {
      // Fall through to the loader, which reports any real problem itself.
    }
  }
  return import('./decode-run.js');
}

/** The yargs parser of every command (exported for the test that holds the shortcut to it). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each command has its own argument type
export async function buildParser(argv: string[], commands: CommandModule<any, any>[]): Promise<Argv> {
  const [{ default: yargs }, { protectStdinArg }, { packageVersion }] = await Promise.all([
    import('yargs'),
    import('./stdin-arg.js'),
    import('./version.js'),
  ]);
  return yargs(protectStdinArg(argv))
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

if (isEntryPoint(import.meta.url)) {
  // A reader that stops early (`kubewire decode f --ndjson | head`) is not an
  // error: stop quietly, like the Unix tools do.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  // What yargs' hideBin gives under node: the arguments after the script.
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`kubewire: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(EXIT_USAGE);
  });
}
