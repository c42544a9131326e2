import { EventEmitter } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, get } from 'node:http';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, connect, type Socket } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runTapCommand, type TapCliArgs } from '../../src/cli/commands/tap.js';
import { generateSelfSigned, type Tap } from '../../src/tap/index.js';
import { runTap } from '../../src/tap/run-tap.js';
import type { DecodeSummary, TimelineEvent } from '../../src/timeline/index.js';

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

function collect(stream: PassThrough): () => string {
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return () => text;
}

async function waitFor<T>(get: () => T | null | undefined, what: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = get();
    if (v !== null && v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('kubewire tap, in process', () => {
  it('a second SIGINT cuts the grace period short; exit 0', async () => {
    const held = new Set<Socket>();
    const upstream = createServer((s) => {
      held.add(s);
      s.on('error', () => {});
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of held) s.destroy();
          upstream.close(() => resolve());
        }),
    );
    const signals = new EventEmitter();
    const stderr = new PassThrough();
    const err = collect(stderr);
    const stdout = new PassThrough();
    stdout.resume();
    const args = {
      listen: '127.0.0.1:0',
      upstream: `http://127.0.0.1:${(upstream.address() as { port: number }).port}`,
      grace: 3600,
      'max-decode-buffer': 64,
      ndjson: true,
      'show-secrets': false,
      bytes: false,
    } as TapCliArgs;
    const done = runTapCommand(args, { stdout, stderr, signals });
    const port = Number(await waitFor(() => /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(err())?.[1], 'listening'));
    const client = connect({ port, host: '127.0.0.1' });
    client.on('error', () => {});
    await new Promise((resolve) => client.once('connect', resolve));
    await waitFor(() => (held.size > 0 ? true : null), 'the upstream connection');
    signals.emit('SIGINT');
    await waitFor(() => (err().includes('stopping') ? true : null), 'stopping');
    signals.emit('SIGINT');
    // With an hour of grace, only the second signal can make this resolve in time.
    expect(await done).toBe(0);
    expect(signals.listenerCount('SIGINT')).toBe(0);
    client.destroy();
  });

  it('--tls-cert/--tls-key: the listener presents the given certificate, and the printed kubeconfig trusts it', async () => {
    const pair = generateSelfSigned({ commonName: 'given cert' });
    const dir = mkdtempSync(join(tmpdir(), 'kubewire-tap-tls-'));
    writeFileSync(join(dir, 'tls.crt'), pair.cert);
    writeFileSync(join(dir, 'tls.key'), pair.key);
    const upstream = createHttpServer((req, res) => res.end('through'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => upstream.close(() => resolve())));
    const signals = new EventEmitter();
    const stderr = new PassThrough();
    const err = collect(stderr);
    const stdout = new PassThrough();
    const out = collect(stdout);
    const args = {
      listen: '127.0.0.1:0',
      upstream: `http://127.0.0.1:${(upstream.address() as { port: number }).port}`,
      'tls-cert': join(dir, 'tls.crt'),
      'tls-key': join(dir, 'tls.key'),
      grace: 1,
      'max-decode-buffer': 64,
      summary: true,
      json: true,
      'show-secrets': false,
      bytes: false,
    } as TapCliArgs;
    const done = runTapCommand(args, { stdout, stderr, signals });
    const url = await waitFor(() => /listening on (https:\/\/127\.0\.0\.1:\d+)/.exec(err())?.[1], 'listening');
    const ca = Buffer.from(await waitFor(() => /certificate-authority-data: (\S+)/.exec(err())?.[1], 'the snippet'), 'base64').toString();
    expect(ca).toBe(pair.cert);
    const body = await new Promise<string>((resolve, reject) => {
      httpsGet(`${url}/version`, { ca, agent: false }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    expect(body).toBe('through');
    signals.emit('SIGTERM');
    expect(await done).toBe(0);
    const summary = JSON.parse(out()) as { requests: Array<{ path: string; status: number }> };
    expect(summary.requests).toMatchObject([{ path: '/version', status: 200 }]);
  });

  it('stops rendering live events while the output is behind, keeps the summary complete, and says so', async () => {
    const server = createHttpServer((req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    let backlog = 0;
    const rendered: TimelineEvent[] = [];
    let summary: DecodeSummary | undefined;
    const stderr = new PassThrough();
    const err = collect(stderr);
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    let tap!: Tap;
    const running = runTap({
      listen: { host: '127.0.0.1', port: 0 },
      upstream: { protocol: 'http', host: '127.0.0.1', port: (server.address() as { port: number }).port },
      graceMs: 1000,
      decoder: {},
      output: {
        event: (ev) => {
          rendered.push(ev);
          backlog += 400; // an output that never drains
        },
        finish: async (s) => {
          summary = s;
        },
      },
      outputBacklog: () => backlog,
      maxOutputBacklogBytes: 1000,
      stderr,
      stopped,
      onListening: (t) => (tap = t),
    });
    await waitFor(() => tap, 'listening');
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        get({ host: '127.0.0.1', port: tap.address.port, path: `/r${i}`, agent: false }, (res) => {
          res.resume();
          res.on('end', resolve);
        }).on('error', reject);
      });
    }
    stop();
    const result = await running;
    expect(result.exitCode).toBe(0);
    expect(summary!.connections).toBe(5);
    expect(summary!.requests).toHaveLength(5);
    // Three events fit under the backlog bound; later live ones were skipped (finish() events are always shown).
    const live = rendered.filter((e) => e.kind === 'http-request');
    expect(live.length).toBeLessThan(5);
    expect(err()).toMatch(/\d+ live events were not shown because the output fell behind/);
  });
});
