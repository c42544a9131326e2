/**
 * Loopback traffic with known bytes, and captures of it made by the real
 * tools (tcpdump, dumpcap, tshark) on this machine.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createHash } from 'node:crypto';
import net from 'node:net';
import type { ConnectionEvent } from '../../src/tcp/types.js';

export function which(tool: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Deterministic pseudo-random bytes (xorshift), so what was sent is known exactly. */
export function knownBytes(seed: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 255;
  }
  return out;
}

export interface Exchange {
  clientPort: number;
  clientToServer: Buffer;
  serverToClient: Buffer;
}

export interface TrafficPlan {
  connections: number;
  clientBytes: number;
  serverBytes: number;
}

/** A server on `host` that, per connection, reads a 4-byte index and answers with that connection's known bytes while the client is still sending. */
export async function startServer(host: string, plan: TrafficPlan): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((sock) => {
    let head = Buffer.alloc(0);
    let started = false;
    sock.on('data', (d) => {
      if (started) return;
      head = Buffer.concat([head, d]);
      if (head.length < 4) return;
      started = true;
      const index = head.readUInt32BE(0);
      sock.end(knownBytes(1000 + index, plan.serverBytes));
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Runs `plan.connections` concurrent clients against the server; resolves with what each sent and received. */
export async function runClients(host: string, port: number, plan: TrafficPlan): Promise<Exchange[]> {
  const one = (index: number) =>
    new Promise<Exchange>((resolve, reject) => {
      const body = knownBytes(index, plan.clientBytes);
      body.writeUInt32BE(index, 0);
      const received: Buffer[] = [];
      let clientPort = 0;
      const sock = net.connect({ host, port }, () => {
        clientPort = sock.localPort!;
        sock.end(body);
      });
      sock.on('data', (d) => received.push(d));
      sock.on('error', reject);
      sock.on('close', () => {
        const got = Buffer.concat(received);
        const expected = knownBytes(1000 + index, plan.serverBytes);
        if (!got.equals(expected)) reject(new Error(`connection ${index}: the server's bytes did not arrive intact`));
        else resolve({ clientPort, clientToServer: body, serverToClient: expected });
      });
    });
  return Promise.all(Array.from({ length: plan.connections }, (_, i) => one(i)));
}

/** Starts a capture tool and resolves once it reports that it is listening. */
export async function startCapture(cmd: string, args: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  (child as ChildProcess & { log?: () => string }).log = () => stderr;
  for (let i = 0; i < 300 && !ready.test(stderr); i++) {
    if (child.exitCode !== null) throw new Error(`${cmd} exited with ${child.exitCode}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!ready.test(stderr)) {
    child.kill('SIGKILL');
    throw new Error(`${cmd} did not start: ${stderr}`);
  }
  return child;
}

/**
 * For tools that announce "Capturing on" before the capture is really active
 * (dumpcap): capture to stdout, copied to `file`, and make canary connections
 * to `port` until packets start flowing. Canary connections carry no data.
 */
export async function startPipedCapture(cmd: string, args: string[], file: string, host: string, port: number): Promise<ChildProcess> {
  const child = spawn(cmd, [...args, '-w', '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = createWriteStream(file);
  let bytes = 0;
  let headerBytes = -1;
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  (child as ChildProcess & { log?: () => string }).log = () => stderr;
  child.stdout!.on('data', (d: Buffer) => {
    bytes += d.length;
  });
  child.stdout!.pipe(out);
  const finished = new Promise<void>((resolve) => out.on('close', () => resolve()));
  (child as ChildProcess & { finished?: Promise<void> }).finished = finished;
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`${cmd} exited: ${stderr}`);
    if (headerBytes < 0 && /Capturing on/.test(stderr) && bytes > 0) headerBytes = bytes;
    if (headerBytes >= 0) {
      if (bytes > headerBytes) return child;
      await new Promise<void>((resolve) => {
        const s = net.connect({ host, port }, () => s.end());
        s.on('error', () => resolve());
        s.on('close', () => resolve());
      });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${cmd} never started capturing: ${stderr}`);
}

/** Gives the tool a moment to write the last packets, then stops it with SIGINT and waits for it to exit. Returns its stderr. */
export async function stopCapture(child: ChildProcess): Promise<string> {
  const log = () => (child as ChildProcess & { log?: () => string }).log?.() ?? '';
  await new Promise((r) => setTimeout(r, 400));
  if (child.exitCode !== null) return log();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
  await (child as ChildProcess & { finished?: Promise<void> }).finished;
  return log();
}

export interface Reassembled {
  client: { address: string; port: number };
  server: { address: string; port: number };
  startedLate: boolean;
  closeReason: string | undefined;
  c2s: Buffer;
  s2c: Buffer;
  gaps: number;
}

/** Groups events by connection and concatenates the two byte streams. */
export function byConnection(events: ConnectionEvent[]): Map<number, Reassembled> {
  const conns = new Map<number, Reassembled & { parts: { c2s: Buffer[]; s2c: Buffer[] } }>();
  for (const e of events) {
    if (e.kind === 'open') {
      conns.set(e.connection, {
        client: e.client,
        server: e.server,
        startedLate: e.startedLate,
        closeReason: undefined,
        c2s: Buffer.alloc(0),
        s2c: Buffer.alloc(0),
        gaps: 0,
        parts: { c2s: [], s2c: [] },
      });
    } else if (e.kind === 'data') {
      const c = conns.get(e.connection)!;
      c.parts[e.direction === 'clientToServer' ? 'c2s' : 's2c'].push(Buffer.from(e.bytes));
    } else if (e.kind === 'gap') {
      conns.get(e.connection)!.gaps++;
    } else if (e.kind === 'close') {
      conns.get(e.connection)!.closeReason = e.reason;
    }
  }
  const out = new Map<number, Reassembled>();
  for (const [id, c] of conns) {
    const { parts, ...rest } = c;
    out.set(id, { ...rest, c2s: Buffer.concat(parts.c2s), s2c: Buffer.concat(parts.s2c) });
  }
  return out;
}

export function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex').slice(0, 16);
}
