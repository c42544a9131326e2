/**
 * What `kubewire serve` runs for exec and attach: a real command on this
 * machine (pipes, or a real pseudo-terminal for TTY sessions), or the
 * built-in echo.
 *
 * Node has no pseudo-terminal of its own and we add no native modules, so a
 * TTY session runs the command under a small Python program (standard
 * library `pty`): it forks the command on a new pty, relays bytes between
 * its stdin/stdout and the pty master, applies resize messages that arrive
 * as JSON lines on fd 3 (TIOCSWINSZ on the master, which also signals
 * SIGWINCH), and exits with the command's exit code.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { PassThrough, type Readable, type Writable } from 'node:stream';

export interface RunningCommand {
  /** Null when the session has no stdin. */
  stdin: Writable | null;
  stdout: Readable;
  /** Null for TTY sessions (the terminal merges stderr into stdout). */
  stderr: Readable | null;
  resize(width: number, height: number): void;
  /** Exit code (signals as 128 + n). Rejects when the command could not start. */
  exit: Promise<number>;
  kill(): void;
}

export interface RunOptions {
  tty: boolean;
  /** Extra environment for the command. */
  env?: Record<string, string>;
  cwd?: string;
}

const PTY_RELAY = String.raw`
import os, sys, pty, select, json, struct, fcntl, termios, errno
argv = sys.argv[1:]
size = os.environ.pop('KUBEWIRE_TTY_SIZE', '')
pid, master = pty.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    except OSError as e:
        os.write(2, ('exec %s: %s\n' % (argv[0], e.strerror)).encode())
        os._exit(127)
def setsize(w, h):
    try:
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack('HHHH', h, w, 0, 0))
    except OSError:
        pass
if size:
    w, h = size.split('x'); setsize(int(w), int(h))
def writeall(fd, data):
    while data:
        n = os.write(fd, data); data = data[n:]
fds = [0, master, 3]
pending = b''
while master in fds:
    r, _, _ = select.select(fds, [], [])
    if master in r:
        try:
            data = os.read(master, 65536)
        except OSError as e:
            data = b''
        if not data:
            fds.remove(master)
        else:
            writeall(1, data)
    if 0 in r:
        data = os.read(0, 65536)
        if not data:
            fds.remove(0)
            try: writeall(master, b'\x04')
            except OSError: pass
        else:
            try: writeall(master, data)
            except OSError: pass
    if 3 in r:
        data = os.read(3, 4096)
        if not data:
            fds.remove(3)
        else:
            pending += data
            while b'\n' in pending:
                line, pending = pending.split(b'\n', 1)
                try:
                    m = json.loads(line)
                    setsize(int(m.get('Width', m.get('width', 80))), int(m.get('Height', m.get('height', 24))))
                except Exception:
                    pass
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
sys.exit(128 - code if code < 0 else code)
`;

function python(): string {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/** Run `argv` on this machine. */
export function runCommand(argv: string[], opts: RunOptions): RunningCommand {
  if (argv.length === 0) argv = ['/bin/sh'];
  const env = { ...process.env, ...opts.env } as Record<string, string>;
  if (opts.tty) {
    env.TERM ??= 'xterm';
    const child = spawn(python(), ['-c', PTY_RELAY, ...argv], {
      stdio: ['pipe', 'pipe', 'inherit', 'pipe'],
      env,
      cwd: opts.cwd,
    });
    const resizeFd = child.stdio[3] as Writable;
    resizeFd.on('error', () => {});
    // The child's 'close' waits for every stdio pipe, this one included.
    child.on('exit', () => resizeFd.destroy());
    child.stdin!.on('error', () => {});
    return {
      stdin: child.stdin,
      stdout: child.stdout!,
      stderr: null,
      resize(width, height) {
        if (resizeFd.writable) resizeFd.write(`${JSON.stringify({ Width: width, Height: height })}\n`);
      },
      exit: exitOf(child),
      kill: () => child.kill('SIGKILL'),
    };
  }
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env, cwd: opts.cwd });
  child.stdin.on('error', () => {});
  return {
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    resize() {},
    exit: exitOf(child),
    kill: () => child.kill('SIGKILL'),
  };
}

function exitOf(child: ReturnType<typeof spawn>): Promise<number> {
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    // 'close' (not 'exit'): every byte of stdout/stderr has been read by then.
    child.on('close', (code, signal) => {
      if (code !== null) resolve(code);
      else resolve(128 + signalNumber(signal));
    });
  });
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const table: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15, SIGPIPE: 13 };
  return (signal && table[signal]) ?? 1;
}

/** The built-in echo: stdin comes back on stdout; exit code 0 once stdin ends. */
export function runEcho(): RunningCommand {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  stdin.pipe(stdout);
  const exit = new Promise<number>((resolve) => stdout.on('end', () => resolve(0)));
  return {
    stdin,
    stdout,
    stderr: null,
    resize() {},
    exit,
    kill: () => {
      stdin.end();
    },
  };
}
