/**
 * Exec and attach, independent of the transport: the SPDY and WebSocket
 * front ends turn their streams/channels into an `ExecIO` and call `runExec`.
 *
 * Attach: a fake pod has no running main process to join, so each attach
 * starts the container's "main process" afresh: the `attachCommand`
 * (default `/bin/sh`), or the echo with `--echo`. That keeps `kubectl attach
 * -it` useful (an interactive shell) and deterministic for fixtures.
 */
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { ResizeDecoder } from '../k8s/index.js';
import { runCommand, runEcho, type RunningCommand } from './process.js';
import type { SessionRecord } from './hops/record.js';
import type { ExecOutcome } from './status.js';

export interface ExecRequest {
  kind: 'exec' | 'attach';
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export interface ExecBehaviour {
  /** Built-in echo instead of running commands. */
  echo?: boolean;
  /** What attach starts (default `/bin/sh`). */
  attachCommand?: string[];
  /** Extra environment for commands. */
  env?: Record<string, string>;
  /** This session's record: what the command read and wrote, and how it ended (`serve --record`). */
  record?: SessionRecord;
}

/** One exec session's client-facing ends. */
export interface ExecIO {
  stdin: Readable | null;
  stdout: Writable | null;
  stderr: Writable | null;
  /** Resize messages as bytes (JSON objects, newline separated). */
  resize: Readable | null;
  /** Report the outcome and end the session. */
  finish(outcome: ExecOutcome): void | Promise<void>;
  /** Settles when the client's connection is gone: the command is killed if still running. */
  gone: Promise<void>;
}

const TRUE = new Set(['true', '1', 'True', 'TRUE']);

export function parseExecRequest(url: URL, kind: 'exec' | 'attach', namespace: string, pod: string): ExecRequest {
  const q = url.searchParams;
  const flag = (name: string) => TRUE.has(q.get(name) ?? '');
  return {
    kind,
    namespace,
    pod,
    container: q.get('container') ?? '',
    command: q.getAll('command'),
    stdin: flag('stdin'),
    stdout: flag('stdout'),
    stderr: flag('stderr'),
    tty: flag('tty'),
  };
}

/** How long a TTY session waits for the client's first terminal size before starting the command. */
const FIRST_SIZE_WAIT_MS = 1000;

export async function runExec(req: ExecRequest, io: ExecIO, behaviour: ExecBehaviour): Promise<ExecOutcome> {
  let proc: RunningCommand | null = null;
  let size: [number, number] | null = null;
  let firstSize: (() => void) | null = null;
  if (io.resize) {
    io.resize.on('data', (d: Buffer) => behaviour.record?.bytes('resize', 'clientToServer', d));
    parseResize(io.resize, (w, h) => {
      size = [w, h];
      if (proc) proc.resize(w, h);
      firstSize?.();
    });
  }
  // Clients send the initial size right after setting up the streams; a
  // command started before it arrives would see a 0×0 terminal.
  if (req.tty && io.resize && !behaviour.echo) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, FIRST_SIZE_WAIT_MS);
      firstSize = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    firstSize = null;
  }
  try {
    if (behaviour.echo) proc = runEcho();
    else {
      const argv = req.kind === 'attach' ? (behaviour.attachCommand ?? ['/bin/sh']) : req.command;
      const s = size as [number, number] | null;
      const env = s ? { ...behaviour.env, KUBEWIRE_TTY_SIZE: `${s[0]}x${s[1]}` } : behaviour.env;
      proc = runCommand(argv, { tty: req.tty, env });
    }
  } catch (e) {
    const outcome: ExecOutcome = { kind: 'failed', message: e instanceof Error ? e.message : String(e) };
    await io.finish(outcome);
    behaviour.record?.end(outcome);
    return outcome;
  }

  const rec = behaviour.record;
  if (rec) {
    io.stdin?.on('data', (d: Buffer) => rec.bytes('stdin', 'clientToServer', d));
    proc.stdout?.on('data', (d: Buffer) => rec.bytes('stdout', 'serverToClient', d));
    proc.stderr?.on('data', (d: Buffer) => rec.bytes('stderr', 'serverToClient', d));
  }
  let exited = false;
  void io.gone.then(() => {
    if (!exited) proc!.kill();
  });
  if (io.stdin && proc.stdin) io.stdin.pipe(proc.stdin);
  else {
    proc.stdin?.end();
    io.stdin?.resume();
  }
  const outputs: Array<Promise<unknown>> = [];
  const forward = (from: Readable | null, to: Writable | null) => {
    if (!from) {
      // Nothing will ever be written (echo has no stderr): end it now, or a
      // SPDY client waits for its EOF forever.
      to?.end();
      return;
    }
    if (!to) {
      from.resume();
      return;
    }
    from.pipe(to);
    outputs.push(once(to, 'finish').catch(() => undefined));
  };
  forward(proc.stdout, io.stdout);
  forward(proc.stderr, io.stderr);

  let outcome: ExecOutcome;
  try {
    outcome = { kind: 'exit', code: await proc.exit };
  } catch (e) {
    outcome = { kind: 'failed', message: e instanceof Error ? e.message : String(e) };
    io.stdout?.end();
    io.stderr?.end();
  }
  exited = true;
  // Input after the process ended is discarded; never leave it unread (that
  // would stall a session whose peer ignores flow control).
  if (io.stdin) {
    io.stdin.unpipe();
    io.stdin.resume();
  }
  await Promise.all(outputs);
  await io.finish(outcome);
  rec?.end(outcome);
  return outcome;
}

/** Resize messages: JSON objects (`{"Width":W,"Height":H}`), in any pieces, field names matched case-insensitively. */
export function parseResize(from: Readable, apply: (width: number, height: number) => void): void {
  const decoder = new ResizeDecoder({ mode: 'inspect' });
  from.on('data', (bytes: Buffer) => {
    for (const ev of decoder.push(bytes)) if (ev.kind === 'resize') apply(ev.width, ev.height);
  });
  from.on('error', () => {});
}
