/**
 * Captures made here by tcpdump and dumpcap of loopback traffic with known
 * bytes, reassembled by our pipeline to exactly those bytes.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { readCapture } from '../../src/capture/index.js';
import { decodeCaptureToConnections } from '../../src/tcp/index.js';
import type { ConnectionEvent } from '../../src/tcp/types.js';
import {
  byConnection,
  runClients,
  startCapture,
  startPipedCapture,
  startServer,
  stopCapture,
  which,
  type Exchange,
  type TrafficPlan,
} from './live-helpers.js';

const PLAN: TrafficPlan = { connections: 3, clientBytes: 1_200_000, serverBytes: 800_000 };
const tcpdump = which('tcpdump');
const dumpcap = which('dumpcap');
if (!tcpdump) console.warn('tcpdump not found: skipping tcpdump capture tests');
if (!dumpcap) console.warn('dumpcap not found: skipping dumpcap capture tests');

/** stderr of the last capture tool run (its packet/drop counts), shown when a comparison fails. */
let lastCaptureLog = '';

const dir = mkdtempSync(join(tmpdir(), 'kubewire-live-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Packets the capture tool itself says it lost (kernel/buffer drops). */
function droppedByTool(log: string): number {
  const tcpdump = /(\d+) packets? dropped by kernel/.exec(log);
  const dumpcap = /received\/dropped on interface [^:]*: \d+\/(\d+)/.exec(log);
  return Number(tcpdump?.[1] ?? dumpcap?.[1] ?? 0);
}

/** Capture loopback traffic to `file` with the given tool; returns what was exchanged. */
async function captureOnce(
  host: string,
  tool: 'tcpdump' | 'dumpcap',
  file: string,
  extra: string[],
  plan: TrafficPlan,
): Promise<Exchange[]> {
  const server = await startServer(host, plan);
  try {
    const filter = `tcp port ${server.port}`;
    const child =
      tool === 'tcpdump'
        ? await startCapture(
            'tcpdump',
            ['-U', '--immediate-mode', '-B', '32768', '-Z', 'root', ...extra, '-w', file, filter],
            /listening on/,
          )
        : await startPipedCapture('dumpcap', ['-q', '-B', '32', ...extra, '-f', filter], file, host, server.port);
    let exchanges: Exchange[] = [];
    try {
      exchanges = await runClients(host, server.port, plan);
    } finally {
      lastCaptureLog = await stopCapture(child);
    }
    return exchanges;
  } finally {
    await server.close();
  }
}

/**
 * A capture in which the tool lost nothing: on a busy machine the kernel may
 * drop packets (the tool says so), then the capture is taken again. After
 * three lossy attempts the last one is kept and `lossy` is set.
 */
async function capture(host: string, tool: 'tcpdump' | 'dumpcap', file: string, extra: string[] = [], plan = PLAN) {
  let exchanges: Exchange[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    exchanges = await captureOnce(host, tool, file, extra, plan);
    if (droppedByTool(lastCaptureLog) === 0) return { exchanges, lossy: false };
  }
  console.warn(`${tool} ${extra.join(' ')} kept dropping packets; checking gap honesty instead of exact bytes`);
  return { exchanges, lossy: true };
}

async function decodeFile(file: string) {
  const events: ConnectionEvent[] = [];
  const summary = await decodeCaptureToConnections(file, (e) => events.push(e.kind === 'data' ? { ...e, bytes: Buffer.from(e.bytes) } : e), {
    chunkSize: 64 * 1024, // many chunk boundaries inside packets
  });
  return { events, summary };
}

function expectExact(events: ConnectionEvent[], captured: { exchanges: Exchange[]; lossy: boolean }, serverAddress: string) {
  if (captured.lossy) return expectHonest(events, captured.exchanges);
  const exchanges = captured.exchanges;
  const diagnostics = events.filter((e) => e.kind === 'diagnostic');
  expect(diagnostics).toEqual([]);
  // Canary connections (made to detect that the capture started) carry no data.
  const conns = [...byConnection(events).values()].filter((c) => c.c2s.length + c.s2c.length + c.gaps > 0);
  expect(conns).toHaveLength(exchanges.length);
  for (const ex of exchanges) {
    const c = conns.find((x) => x.client.port === ex.clientPort);
    expect(c, `connection from port ${ex.clientPort}; capture tool said: ${lastCaptureLog}`).toBeDefined();
    expect(c!.server.address).toBe(serverAddress);
    expect(c!.startedLate).toBe(false);
    const why = `capture tool said: ${lastCaptureLog}; close: ${c!.closeReason}`;
    expect(c!.gaps, why).toBe(0);
    expect(c!.c2s.length, why).toBe(ex.clientToServer.length);
    expect(c!.s2c.length, why).toBe(ex.serverToClient.length);
    expect(c!.c2s.equals(ex.clientToServer)).toBe(true);
    expect(c!.s2c.equals(ex.serverToClient)).toBe(true);
    expect(c!.closeReason).toBe('fin');
  }
}

/** With packets lost by the capture tool: every delivered byte is the byte sent at that offset, and gaps account for the rest. */
function expectHonest(events: ConnectionEvent[], exchanges: Exchange[]) {
  const conns = new Map<number, { port: number; end: Record<string, number> }>();
  for (const e of events) {
    if (e.kind === 'open') conns.set(e.connection, { port: e.client.port, end: { clientToServer: 0, serverToClient: 0 } });
    if (e.kind !== 'data' && e.kind !== 'gap') continue;
    const c = conns.get(e.connection)!;
    const ex = exchanges.find((x) => x.clientPort === c.port);
    if (!ex) continue;
    expect(e.offset).toBe(c.end[e.direction]);
    if (e.kind === 'data') {
      const sent = e.direction === 'clientToServer' ? ex.clientToServer : ex.serverToClient;
      expect(Buffer.from(e.bytes).equals(sent.subarray(e.offset, e.offset + e.bytes.length))).toBe(true);
      c.end[e.direction] += e.bytes.length;
    } else c.end[e.direction] += e.size;
  }
}

async function linkTypeOf(file: string): Promise<number | undefined> {
  for await (const r of readCapture(file)) if (r.kind === 'packet') return r.linkType;
  return undefined;
}

/**
 * Capturing needs privileges (root or CAP_NET_RAW); without them the tool
 * starts but cannot open the interface. Probe once, and skip with a reason.
 */
async function probe(tool: 'tcpdump' | 'dumpcap'): Promise<string | null> {
  try {
    const child =
      tool === 'tcpdump'
        ? await startCapture('tcpdump', ['-i', 'lo', '-Z', 'root', '-w', '/dev/null', 'port 9'], /listening on/)
        : await startCapture('dumpcap', ['-i', 'lo', '-f', 'port 9', '-w', '/dev/null'], /Capturing on/);
    await stopCapture(child);
    return null;
  } catch (e) {
    return (e as Error).message.split('\n')[0]!;
  }
}

function requireCapture(ctx: TestContext, why: string | null): void {
  if (why !== null) {
    console.warn(`skipping: cannot capture on lo here (${why})`);
    ctx.skip();
  }
}

describe.skipIf(!tcpdump)('tcpdump captures', () => {
  let cannot: string | null = null;
  beforeAll(async () => {
    cannot = await probe('tcpdump');
  });

  it('pcap of lo (Ethernet, IPv4) reassembles to the exact bytes', async (ctx) => {
    requireCapture(ctx, cannot);
    const file = join(dir, 'lo4.pcap');
    const ex = await capture('127.0.0.1', 'tcpdump', file, ['-i', 'lo']);
    expect(await linkTypeOf(file)).toBe(1);
    const { events, summary } = await decodeFile(file);
    expect(summary.format).toBe('pcap');
    expectExact(events, ex, '127.0.0.1');
  });

  it('IPv6 over ::1', async (ctx) => {
    requireCapture(ctx, cannot);
    const file = join(dir, 'lo6.pcap');
    const ex = await capture('::1', 'tcpdump', file, ['-i', 'lo']);
    const { events } = await decodeFile(file);
    expectExact(events, ex, '::1');
  });

  it('-i any writes Linux cooked v2 (SLL2); -y LINUX_SLL gives v1', async (ctx) => {
    requireCapture(ctx, cannot);
    const file2 = join(dir, 'any-sll2.pcap');
    const ex2 = await capture('127.0.0.1', 'tcpdump', file2, ['-i', 'any']);
    expect(await linkTypeOf(file2)).toBe(276);
    expectExact((await decodeFile(file2)).events, ex2, '127.0.0.1');
    const file1 = join(dir, 'any-sll.pcap');
    const ex1 = await capture('127.0.0.1', 'tcpdump', file1, ['-i', 'any', '-y', 'LINUX_SLL']);
    expect(await linkTypeOf(file1)).toBe(113);
    expectExact((await decodeFile(file1)).events, ex1, '127.0.0.1');
  });

  it('nanosecond timestamps (pcap-ns magic)', async (ctx) => {
    requireCapture(ctx, cannot);
    const file = join(dir, 'ns.pcap');
    const ex = await capture('127.0.0.1', 'tcpdump', file, ['-i', 'lo', '--time-stamp-precision', 'nano']);
    const { events, summary } = await decodeFile(file);
    expect(summary.format).toBe('pcap-ns');
    expectExact(events, ex, '127.0.0.1');
    const now = Date.now() * 1000;
    const t = events.find((e) => e.kind === 'open')!.time;
    expect(Math.abs(t - now)).toBeLessThan(120e6);
  });

  it('a small snaplen gives exact gaps: data plus gaps cover every byte sent', async (ctx) => {
    requireCapture(ctx, cannot);
    const file = join(dir, 'snap.pcap');
    const plan = { connections: 1, clientBytes: 300_000, serverBytes: 200_000 };
    const { exchanges: ex } = await capture('127.0.0.1', 'tcpdump', file, ['-i', 'lo', '-s', '200'], plan);
    const { events } = await decodeFile(file);
    const end = { clientToServer: 0, serverToClient: 0 };
    let gapBytes = 0;
    for (const e of events) {
      if (e.kind === 'data' || e.kind === 'gap') {
        expect(e.offset).toBe(end[e.direction]);
        end[e.direction] += e.kind === 'data' ? e.bytes.length : e.size;
        if (e.kind === 'gap') gapBytes += e.size;
      }
    }
    expect(end.clientToServer).toBe(ex[0]!.clientToServer.length);
    expect(end.serverToClient).toBe(ex[0]!.serverToClient.length);
    expect(gapBytes).toBeGreaterThan(0);
    // The bytes that did come through sit at their true offsets.
    const first = events.find((e) => e.kind === 'data' && e.direction === 'clientToServer');
    if (first?.kind !== 'data') throw new Error('no client data');
    expect(Buffer.from(first.bytes).equals(ex[0]!.clientToServer.subarray(first.offset, first.offset + first.bytes.length))).toBe(true);
  });

  it('streams `tcpdump -U -w -` from a pipe, emitting before the capture ends', async (ctx) => {
    requireCapture(ctx, cannot);
    const server = await startServer('127.0.0.1', PLAN);
    const child = spawn(
      'tcpdump',
      ['-U', '--immediate-mode', '-B', '32768', '-i', 'lo', '-w', '-', `tcp port ${server.port}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    const listening = new Promise<void>((resolve) =>
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/listening on/.test(stderr)) resolve();
      }),
    );
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const events: ConnectionEvent[] = [];
    let closesWhileRunning = 0;
    let dataWhileRunning = 0;
    const decoding = decodeCaptureToConnections(child.stdout, (e) => {
      if (e.kind === 'close' && child.exitCode === null) closesWhileRunning++;
      if (e.kind === 'data' && child.exitCode === null) dataWhileRunning++;
      events.push(e.kind === 'data' ? { ...e, bytes: Buffer.from(e.bytes) } : e);
    });
    try {
      await listening;
      const exchanges = await runClients('127.0.0.1', server.port, PLAN);
      // Wait (bounded) until every connection has been seen closing, while tcpdump still runs.
      for (let i = 0; i < 100 && closesWhileRunning < PLAN.connections; i++) await new Promise((r) => setTimeout(r, 50));
      expect(child.exitCode).toBeNull();
      expect(dataWhileRunning).toBeGreaterThan(0);
      if (droppedByTool(stderr) === 0) expect(closesWhileRunning).toBe(PLAN.connections);
      child.kill('SIGINT');
      await exited;
      await decoding;
      expectExact(events, { exchanges, lossy: droppedByTool(stderr) > 0 }, '127.0.0.1');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await server.close();
    }
  });
});

describe.skipIf(!dumpcap)('dumpcap captures', () => {
  let cannot: string | null = null;
  beforeAll(async () => {
    cannot = await probe('dumpcap');
  });

  it('pcapng of lo reassembles to the exact bytes', async (ctx) => {
    requireCapture(ctx, cannot);
    const file = join(dir, 'lo.pcapng');
    const ex = await capture('127.0.0.1', 'dumpcap', file, ['-i', 'lo']);
    const { events, summary } = await decodeFile(file);
    expect(summary.format).toBe('pcapng');
    expectExact(events, ex, '127.0.0.1');
    // dumpcap writes nanosecond if_tsresol: times must still be "now".
    const t = events.find((e) => e.kind === 'open')!.time;
    expect(Math.abs(t - Date.now() * 1000)).toBeLessThan(120e6);
  });
});
