/**
 * kubectl's own global flags that say whom to talk to (`--kubeconfig`,
 * `--context`, `--cluster`, `--user`, `-n`/`--namespace`), found in a
 * wrapped kubectl command line. The tap signs in with them, as kubectl
 * would have; the first four are then taken out of the command, since the
 * kubeconfig the command gets has the tap's one context. `-n` stays: it
 * means the same through the tap.
 */
import { basename } from 'node:path';

export interface KubectlSelection {
  kubeconfig?: string;
  context?: string;
  cluster?: string;
  user?: string;
  namespace?: string;
}

const TAKEN_OUT = new Set(['kubeconfig', 'context', 'cluster', 'user']);
const SELECTING = new Set([...TAKEN_OUT, 'namespace']);

/** For a command that is not kubectl, nothing is looked at. */
export function kubectlSelection(command: string[]): { selection: KubectlSelection; command: string[] } {
  const selection: KubectlSelection = {};
  if (command.length === 0 || !basename(command[0]!).startsWith('kubectl')) return { selection, command };
  const out = [command[0]!];
  for (let i = 1; i < command.length; i++) {
    const arg = command[i]!;
    if (arg === '--') {
      // The rest is the remote command's.
      out.push(...command.slice(i));
      break;
    }
    let name: string | undefined;
    let value: string | undefined;
    let consumed = 0;
    const long = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    const short = /^-n(?:=?(.+))?$/s.exec(arg);
    if (long && SELECTING.has(long[1]!)) {
      name = long[1]!;
      value = long[2];
    } else if (short) {
      name = 'namespace';
      value = short[1];
    }
    if (name === undefined) {
      out.push(arg);
      continue;
    }
    if (value === undefined) {
      value = command[i + 1];
      consumed = 1;
    }
    if (value !== undefined) (selection as Record<string, string>)[name] = value;
    if (!TAKEN_OUT.has(name)) out.push(...command.slice(i, i + 1 + consumed));
    i += consumed;
  }
  return { selection, command: out };
}
