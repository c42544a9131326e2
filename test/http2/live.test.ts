/**
 * Real HTTP/2: Node's `http2` client and server (nghttp2) on loopback, h2c
 * with prior knowledge, captured with tcpdump; our requests (method, path,
 * status) against tshark's `http2` dissector on the same capture.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { decodeCaptureToConnections } from '../../src/tcp/index.js';
import { SessionDecoder, type TimelineEvent } from '../../src/timeline/index.js';
import { startCapture, stopCapture, which } from '../capture/live-helpers.js';

const tcpdump = which('tcpdump');
const tshark = which('tshark');
if (!tcpdump) console.warn('tcpdump not found: skipping the live HTTP/2 capture');

/** What the client asks: method, path, request body, and the status the server gives. */
const PLAN = [
  { method: 'GET', path: '/api?timeout=32s', body: '', status: 200 },
  { method: 'POST', path: '/apis/batch/v1/namespaces/default/jobs', body: 'x'.repeat(40000), status: 201 },
  { method: 'GET', path: '/api/v1/namespaces/default/pods/missing', body: '', status: 404 },
  { method: 'DELETE', path: '/api/v1/namespaces/default/pods/p', body: '', status: 200 },
];

async function traffic(port: number): Promise<void> {
  const client = http2.connect(`http://127.0.0.1:${port}`);
  for (const step of PLAN) {
    await new Promise<void>((resolve, reject) => {
      const req = client.request({ ':method': step.method, ':path': step.path, authorization: 'Bearer secret-token-123' });
      req.on('response', () => undefined);
      req.on('data', () => undefined);
      req.on('end', () => resolve());
      req.on('error', reject);
      req.end(step.body || undefined);
    });
  }
  await new Promise<void>((r) => client.close(() => r()));
}

describe.skipIf(!tcpdump)('HTTP/2 (h2c) between Node http2 peers, captured with tcpdump', () => {
  let dir = '';
  let file = '';
  let cannot: string | null = null;
  let port = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubewire-h2-'));
    file = join(dir, 'h2c.pcap');
    const server = http2.createServer();
    server.on('stream', (stream, headers) => {
      const step = PLAN.find((p) => p.path === headers[':path'] && p.method === headers[':method']);
      stream.on('data', () => undefined);
      stream.on('end', () => {
        stream.respond({ ':status': step?.status ?? 500, 'content-type': 'application/json' });
        stream.end(JSON.stringify({ kind: 'Status', path: headers[':path'] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as { port: number }).port;
    try {
      const cap = await startCapture('tcpdump', ['-i', 'lo', '-U', '--immediate-mode', '-Z', 'root', '-w', file, `tcp port ${port}`], /listening on/);
      // "listening on" comes a moment before packets are really taken
      await new Promise((r) => setTimeout(r, 500));
      await traffic(port);
      await stopCapture(cap);
    } catch (e) {
      cannot = (e as Error).message.split('\n')[0]!;
    }
    await new Promise<void>((r) => server.close(() => r()));
  }, 60_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const skipIfCannot = (ctx: TestContext) => {
    if (cannot !== null) {
      console.warn(`skipping: cannot capture on lo here (${cannot})`);
      ctx.skip();
    }
  };

  async function decode(): Promise<{ events: TimelineEvent[]; dec: SessionDecoder }> {
    const dec = new SessionDecoder();
    const events: TimelineEvent[] = [];
    await decodeCaptureToConnections(file, (e) => {
      events.push(...dec.push(e));
    });
    events.push(...dec.finish());
    return { events, dec };
  }

  it('lists every request with method, path and status, and no diagnostics', async (ctx) => {
    skipIfCannot(ctx);
    const { events, dec } = await decode();
    expect(events.filter((e) => e.kind === 'diagnostic')).toEqual([]);
    expect(events.filter((e) => e.kind === 'connection-classified').map((e) => e.kind === 'connection-classified' && e.protocol)).toEqual(['http2']);
    const reqs = dec.summary().requests;
    expect(reqs.map((r) => [r.method, r.path + (r.query ? '?' + r.query : ''), r.status])).toEqual(PLAN.map((p) => [p.method, p.path, p.status]));
    const bodies = events.flatMap((e) => (e.kind === 'http-request' ? [e.bodyLength] : []));
    expect(bodies).toEqual(PLAN.map((p) => p.body.length));
    // the bearer token is a secret in HTTP/2 too
    const auth = events.flatMap((e) => (e.kind === 'http-request' ? e.headers.filter(([n]) => n === 'authorization').map(([, v]) => v) : []));
    expect(auth).toEqual(PLAN.map(() => 'Bearer [redacted]'));
  });

  it.skipIf(!tshark)("has the requests and statuses tshark's http2 dissector finds", async (ctx) => {
    skipIfCannot(ctx);
    const r = spawnSync('tshark', ['-r', file, '-d', `tcp.port==${port},http2`, '-Y', 'http2.type == 1', '-T', 'fields', '-E', 'aggregator=|', '-e', 'http2.streamid', '-e', 'http2.headers.method', '-e', 'http2.headers.path', '-e', 'http2.headers.status'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const theirs = { requests: [] as string[], statuses: [] as string[] };
    for (const line of r.stdout.split('\n')) {
      if (!line.trim()) continue;
      const [, method, path, status] = line.split('\t');
      // one HEADERS frame per line here; a packet with several would join them with '|'
      if (method) method.split('|').forEach((m, i) => theirs.requests.push(`${m} ${path!.split('|')[i]}`));
      if (status) theirs.statuses.push(...status.split('|'));
    }
    const { events } = await decode();
    const ours = {
      requests: events.flatMap((e) => (e.kind === 'http-request' ? [`${e.method} ${e.target}`] : [])),
      statuses: events.flatMap((e) => (e.kind === 'http-response' ? [String(e.status)] : [])),
    };
    expect(theirs.requests.length).toBe(PLAN.length);
    expect(ours).toEqual(theirs);
  });
});
