/**
 * `kubewire tap [options] -- COMMAND…`: the tap for the length of one
 * command. The command gets the terminal, stdin, stdout and stderr as they
 * are, and KUBECONFIG pointing at the tap; kubewire's own output goes to
 * stderr or a file. When the command ends, the tap drains its decoders,
 * writes its output and exits with the command's exit code.
 *
 * Signals: Ctrl-C at a terminal reaches the whole foreground process group,
 * the command included, so the tap lets it be while the command runs; a
 * signal sent to the tap alone (SIGTERM, SIGHUP, or SIGINT without a
 * terminal) is passed on to the command.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { runTap, type TapRunOptions } from './run-tap.js';

const PASSED_ON = ['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGQUIT'] as const;
/** After the command exits, connections it left open get this long. */
const AFTER_EXIT_GRACE_MS = 1000;

export async function runWrapped(
  command: string[],
  base: Omit<TapRunOptions, 'stopped' | 'forced'>,
  signals: NodeJS.EventEmitter,
): Promise<number> {
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let exitCode = 0;
  let started!: () => void;
  let failed!: (e: Error) => void;
  const childDone = new Promise<void>((resolve, reject) => {
    started = resolve;
    failed = reject;
  });
  let child: ReturnType<typeof spawn> | undefined;
  const say = (line: string) => base.stderr.write(`kubewire tap: ${line}\n`);

  const onSignal = (signal: NodeJS.Signals) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      stop();
      return;
    }
    if (signal === 'SIGINT' && process.stdin.isTTY) return; // the terminal sent it to the command too
    child.kill(signal);
  };
  const handlers = PASSED_ON.map((s) => [s, () => onSignal(s)] as const);
  for (const [s, h] of handlers) signals.on(s, h);

  const running = runTap({
    ...base,
    quiet: true,
    graceMs: Math.min(base.graceMs, AFTER_EXIT_GRACE_MS),
    stopped,
    onKubeconfig: (path) => {
      try {
        child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env: { ...process.env, KUBECONFIG: path } });
      } catch (e) {
        failed(e as Error);
        return;
      }
      child.once('error', (e) => failed(e));
      child.once('exit', (code, signal) => {
        exitCode = code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
        started();
      });
    },
  });
  try {
    const ended = await Promise.race([running.then((r) => ({ tapEnded: r })), childDone.then(() => null)]);
    if (ended) return ended.tapEnded.exitCode; // the tap could not start
    stop();
    const result = await running;
    return result.exitCode === 0 ? exitCode : result.exitCode;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    say(`cannot run ${command[0]}: ${err.code === 'ENOENT' ? 'command not found' : err.message}`);
    stop();
    await running;
    return 127;
  } finally {
    for (const [s, h] of handlers) signals.off(s, h);
  }
}
