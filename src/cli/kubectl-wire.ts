#!/usr/bin/env node
/**
 * `kubectl wire …`, the kubectl plugin (kubectl runs `kubectl-wire` from
 * PATH): runs a kubectl subcommand through a signed-in `kubewire tap`.
 *
 *   kubectl wire [kubewire tap options] SUBCOMMAND [kubectl args…]
 *
 * kubewire's options come before the subcommand; everything from the
 * subcommand on is kubectl's, whose `--context`, `--kubeconfig`,
 * `--cluster`, `--user` and `-n` choose the upstream as they would for
 * kubectl. The kubectl that runs is `$KUBEWIRE_KUBECTL`, else `kubectl`.
 */
import { TAP_VALUE_OPTIONS } from './commands/tap.js';
import { main } from './main.js';
import { isEntryPoint } from './entry-point.js';

const HELP = `Run a kubectl subcommand through kubewire tap, and see its sessions decoded.

Usage: kubectl wire [kubewire tap options] SUBCOMMAND [kubectl args…]

Examples:
  kubectl wire exec -it web -- sh                  summary on stderr when it ends
  kubectl wire --follow exec web -- cat /etc/os-release
  kubectl wire --write pf.pcapng port-forward pod/web 9000:8080
  kubectl wire --ndjson --out events.ndjson cp web:/data ./data
  kubectl wire --context prod -n web exec deploy/api -- env

kubectl's stdout is left alone; kubewire writes to stderr or --out FILE.
Options: see 'kubewire tap --help'. The kubectl run is $KUBEWIRE_KUBECTL, else kubectl.
`;

/** Split `kubectl wire` arguments into kubewire's options and kubectl's part. */
export function splitWireArgs(args: string[]): { tapOptions: string[]; kubectlArgs: string[] } {
  const valued = new Set(TAP_VALUE_OPTIONS);
  let i = 0;
  while (i < args.length) {
    const arg = args[i]!;
    // `--` may end kubewire's options explicitly.
    if (arg === '--') return { tapOptions: args.slice(0, i), kubectlArgs: args.slice(i + 1) };
    if (!arg.startsWith('-') || arg === '-') break;
    const name = arg.replace(/^--?/, '').split('=', 1)[0]!;
    i += valued.has(name) && !arg.includes('=') ? 2 : 1;
  }
  return { tapOptions: args.slice(0, Math.min(i, args.length)), kubectlArgs: args.slice(i) };
}

export async function kubectlWire(args: string[]): Promise<void> {
  const { tapOptions, kubectlArgs } = splitWireArgs(args);
  if (kubectlArgs.length === 0) {
    const asked = tapOptions.includes('--help') || tapOptions.includes('-h');
    (asked ? process.stdout : process.stderr).write(HELP);
    if (!asked) process.exitCode = 2;
    return;
  }
  const kubectl = process.env.KUBEWIRE_KUBECTL || 'kubectl';
  await main(['tap', ...tapOptions, '--', kubectl, ...kubectlArgs]);
}

if (isEntryPoint(import.meta.url)) {
  kubectlWire(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`kubectl wire: ${(e as Error).message}\n`);
    process.exitCode = 2;
  });
}
