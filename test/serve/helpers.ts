/** Plumbing for `kubewire serve` tests: a TCP echo target, a pty runner for kubectl -t, port-forward readiness. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import net from 'node:net';

export async function echoServer(): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let count = 0;
  const socks = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    count++;
    socks.add(s);
    s.on('close', () => socks.delete(s));
    s.on('error', () => {});
    s.pipe(s);
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return {
    port: (srv.address() as net.AddressInfo).port,
    connections: () => count,
    async close() {
      for (const s of socks) s.destroy();
      srv.close();
      await once(srv, 'close');
    },
  };
}

/** Send `data` over a fresh TCP connection to `port`, read the same number of bytes back. */
export async function roundTrip(port: number, data: Buffer): Promise<Buffer> {
  const r = await exchange(port, data);
  if (r.reset) throw r.reset;
  return r.data;
}

/**
 * `roundTrip` that also takes a reset for an end: what came back, and the
 * reset if the peer closed with one (a peer that closes with unread input
 * resets, as kubectl does to a local connection it hangs up before reading).
 */
export async function exchange(port: number, data: Buffer): Promise<{ data: Buffer; reset: Error | null }> {
  const s = net.connect(port, '127.0.0.1');
  await once(s, 'connect');
  const parts: Buffer[] = [];
  let got = 0;
  let reset: Error | null = null;
  const done = new Promise<void>((resolve, reject) => {
    s.on('data', (d: Buffer) => {
      parts.push(d);
      got += d.length;
      if (got >= data.length) resolve();
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ECONNRESET') return reject(e);
      reset = e;
      resolve();
    });
    s.on('close', () => resolve());
  });
  s.write(data);
  await done;
  s.destroy();
  return { data: Buffer.concat(parts), reset };
}

/** Resolve once the child's stdout contains `text` (or reject on exit). */
export function waitForOutput(child: ChildProcess, text: string, timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${JSON.stringify(text)}; saw ${seen}`)), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`exited before ${JSON.stringify(text)}; saw ${seen}`));
    });
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Run a command on a pseudo-terminal of `cols`×`rows` (set before exec).
 * When the output shows `resizeAfter`, the terminal becomes `resizeTo` and,
 * after a pause, `input` is typed. Resolves with the output and exit code.
 */
const PTY_CLIENT = String.raw`
import os, sys, pty, struct, fcntl, termios, time, select, json
cfg = json.loads(sys.argv[1]); argv = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', cfg['rows'], cfg['cols'], 0, 0))
    os.execvpe(argv[0], argv, os.environ)
out = b''; resized = False; deadline = time.time() + cfg['timeout']
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if fd in r:
        try: d = os.read(fd, 65536)
        except OSError: d = b''
        if not d: break
        out += d
    if not resized and cfg['resizeAfter'].encode() in out:
        resized = True
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', cfg['resizeTo'][1], cfg['resizeTo'][0], 0, 0))
        time.sleep(0.7)
        os.write(fd, cfg['input'].encode())
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out); sys.stdout.flush()
sys.exit(os.waitstatus_to_exitcode(status) & 0xff)
`;

export async function runOnPty(
  argv: string[],
  cfg: { cols: number; rows: number; resizeAfter: string; resizeTo: [number, number]; input: string; timeout: number },
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const py = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const child = spawn(py, ['-c', PTY_CLIENT, JSON.stringify(cfg), ...argv], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const parts: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => parts.push(d));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, output: Buffer.concat(parts).toString('utf8') };
}
