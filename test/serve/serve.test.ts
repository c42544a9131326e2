/**
 * `kubewire serve` beyond the kubectl defaults: token auth, TLS with the
 * generated certificate, attach, --echo, the WebSocket protocols kubectl does
 * not use (v4, base64, native port-forward) driven by the `ws` client.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { bearerMatches, isLoopback, parseListen, startServe, type ServeHandle } from '../../src/serve/index.js';
import { kubectlBinary, kubectlMissing, runKubectl } from '../helpers/kubectl.js';
import { echoServer } from './helpers.js';

const open: ServeHandle[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

async function serve(opts: Parameters<typeof startServe>[0]): Promise<ServeHandle> {
  const h = await startServe(opts);
  open.push(h);
  return h;
}

function configFile(text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'kubewire-serve-')), 'config');
  writeFileSync(p, text);
  return p;
}

const k133 = kubectlMissing('1.33');
const k127 = kubectlMissing('1.27');
if (k133) console.warn(`skipping kubectl 1.33 cases: ${k133}`);
if (k127) console.warn(`skipping kubectl 1.27 cases: ${k127}`);

describe('listening rules and auth', () => {
  it('refuses to listen beyond loopback without a token', async () => {
    await expect(startServe({ listen: '0.0.0.0:0' })).rejects.toThrow(/token/);
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('[::1]')).toBe(true);
    expect(isLoopback('0.0.0.0')).toBe(false);
    expect(isLoopback('10.0.0.1')).toBe(false);
    expect(parseListen('127.0.0.1:8001')).toEqual({ host: '127.0.0.1', port: 8001 });
    expect(parseListen('[::1]:9')).toEqual({ host: '::1', port: 9 });
  });

  it('bearer tokens compare exactly', () => {
    expect(bearerMatches('Bearer abc', 'abc')).toBe(true);
    expect(bearerMatches('bearer abc', 'abc')).toBe(true);
    expect(bearerMatches('Bearer abd', 'abc')).toBe(false);
    expect(bearerMatches('Bearer abcd', 'abc')).toBe(false);
    expect(bearerMatches('Bearer ', '')).toBe(false);
    expect(bearerMatches(undefined, 'abc')).toBe(false);
    expect(bearerMatches('Basic abc', 'abc')).toBe(false);
  });

  it('with a token: requests and upgrades without it get 401', async () => {
    // tls: false only so that plain fetch can be used; kubectl needs the default (TLS with a token).
    const h = await serve({ token: 's3cret', echo: true, tls: false });
    const noToken = await fetch(`${h.url}/api`);
    expect(noToken.status).toBe(401);
    const wrong = await fetch(`${h.url}/api`, { headers: { Authorization: 'Bearer s3creT' } });
    expect(wrong.status).toBe(401);
    const withToken = await fetch(`${h.url}/api`, { headers: { Authorization: 'Bearer s3cret' } });
    expect(withToken.status).toBe(200);
    const ws = new WebSocket(`${h.url.replace('http', 'ws')}/api/v1/namespaces/d/pods/p/exec?command=x&stdout=true`, [
      'v5.channel.k8s.io',
    ]);
    ws.on('error', () => {});
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number }];
    expect(res.statusCode).toBe(401);
    ws.terminate();
  });

  it.skipIf(!!k133)('kubectl with the token from the printed kubeconfig gets through (a token implies TLS)', async () => {
    const h = await serve({ token: 's3cret', echo: true });
    expect(h.url.startsWith('https://')).toBe(true);
    expect(h.kubeconfig).toContain('token: s3cret');
    const denied = await runKubectl(kubectlBinary('1.33')!, ['exec', '-i', 'p', '--', 'ignored'], {
      kubeconfig: configFile(h.kubeconfig.replace('token: s3cret', 'token: wrong')),
      stdin: 'x\n',
    });
    expect(denied.code).not.toBe(0);
    expect(denied.stdout.length).toBe(0);
    const r = await runKubectl(kubectlBinary('1.33')!, ['exec', '-i', 'p', '--', 'ignored'], {
      kubeconfig: configFile(h.kubeconfig),
      stdin: 'through\n',
    });
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('through\n');
  });
});

describe('TLS with a generated certificate', () => {
  it.skipIf(!!k133)('kubectl 1.33 verifies it through the kubeconfig and execs over WebSocket', async () => {
    const h = await serve({ tls: true, echo: true });
    expect(h.url.startsWith('https://')).toBe(true);
    expect(h.kubeconfig).toContain('certificate-authority-data:');
    const r = await runKubectl(kubectlBinary('1.33')!, ['exec', '-i', 'p', '--', 'x'], {
      kubeconfig: configFile(h.kubeconfig),
      stdin: 'over tls\n',
    });
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('over tls\n');
  });

  it.skipIf(!!k127)('kubectl 1.27 over SPDY', async () => {
    const h = await serve({ tls: true });
    const r = await runKubectl(kubectlBinary('1.27')!, ['exec', '-i', 'p', '--', 'sh', '-c', 'cat; exit 4'], {
      kubeconfig: configFile(h.kubeconfig),
      stdin: 'spdy tls\n',
    });
    expect(r.code).toBe(4);
    expect(r.stdout.toString()).toBe('spdy tls\n');
  });
});

describe('client gone', () => {
  for (const [version, env] of [
    ['1.33', {}],
    ['1.27', {}],
  ] as const) {
    it.skipIf(!!kubectlMissing(version))(`kubectl ${version} killed mid-exec: the command is killed too`, async () => {
      const h = await serve({});
      let child: import('node:child_process').ChildProcess | null = null;
      let pidText = '';
      const gotPid = new Promise<void>((resolve) => {
        const run = runKubectl(kubectlBinary(version)!, ['exec', 'p', '--', 'sh', '-c', 'echo $$; exec sleep 30'], {
          kubeconfig: configFile(h.kubeconfig),
          env,
          onSpawn: (c) => {
            child = c;
            c.stdout!.on('data', (d: Buffer) => {
              pidText += d.toString();
              if (pidText.includes('\n')) resolve();
            });
          },
        });
        void run.catch(() => {});
      });
      await gotPid;
      const pid = Number(pidText.trim());
      expect(pid).toBeGreaterThan(1);
      expect(() => process.kill(pid, 0)).not.toThrow();
      child!.kill('SIGKILL');
      let alive = true;
      for (let i = 0; i < 100 && alive; i++) {
        await new Promise((r) => setTimeout(r, 50));
        try {
          process.kill(pid, 0);
        } catch {
          alive = false;
        }
      }
      expect(alive).toBe(false);
    });
  }
});

describe('attach and echo', () => {
  it.skipIf(!!k133)('attach starts the attach command', async () => {
    const h = await serve({ attachCommand: ['sh', '-c', 'echo attached; cat'] });
    const r = await runKubectl(kubectlBinary('1.33')!, ['attach', '-i', 'p'], {
      kubeconfig: configFile(h.kubeconfig),
      stdin: 'typed\n',
    });
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('attached\ntyped\n');
  });

  it.skipIf(!!k127)('--echo with kubectl 1.27 (SPDY): a megabyte comes back intact', async () => {
    const h = await serve({ echo: true });
    const data = randomBytes(1 << 20);
    const r = await runKubectl(kubectlBinary('1.27')!, ['exec', '-i', 'p', '--', 'anything'], {
      kubeconfig: configFile(h.kubeconfig),
      stdin: data,
    });
    expect(r.code).toBe(0);
    expect(r.stdout.equals(data)).toBe(true);
  });
});

interface Received {
  messages: Array<{ data: Buffer; text: boolean }>;
  code: number;
}

function collect(ws: WebSocket): Promise<Received> {
  const messages: Received['messages'] = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => messages.push({ data: Buffer.from(data), text: !isBinary }));
  return new Promise((resolve) => ws.on('close', (code: number) => resolve({ messages, code })));
}

function wsUrl(h: ServeHandle, path: string): string {
  return `${h.url.replace(/^http/, 'ws')}${path}`;
}

describe('WebSocket protocols kubectl does not use', () => {
  it('v4.channel.k8s.io exec: stdout, JSON status with the exit code, close 1000', async () => {
    const h = await serve({});
    const ws = new WebSocket(
      wsUrl(h, '/api/v1/namespaces/d/pods/p/exec?command=sh&command=-c&command=head+-c+5%3B+echo%3B+exit+3&stdin=true&stdout=true&stderr=true'),
      ['v4.channel.k8s.io'],
    );
    const got = collect(ws);
    await once(ws, 'open');
    expect(ws.protocol).toBe('v4.channel.k8s.io');
    ws.send(Buffer.from('\x00hello world'));
    const { messages, code } = await got;
    expect(code).toBe(1000);
    expect(messages[0]!.data).toEqual(Buffer.from([1]));
    const stdout = Buffer.concat(messages.filter((m) => m.data[0] === 1).map((m) => m.data.subarray(1)));
    expect(stdout.toString()).toBe('hello\n');
    const status = JSON.parse(messages.find((m) => m.data[0] === 3)!.data.subarray(1).toString());
    expect(status.reason).toBe('NonZeroExitCode');
    expect(status.details.causes).toEqual([{ reason: 'ExitCode', message: '3' }]);
  });

  it('v4.base64.channel.k8s.io exec: text messages with a channel digit and base64', async () => {
    const h = await serve({});
    const ws = new WebSocket(
      wsUrl(h, '/api/v1/namespaces/d/pods/p/exec?command=sh&command=-c&command=head+-c+3&stdin=true&stdout=true'),
      ['v4.base64.channel.k8s.io'],
    );
    const got = collect(ws);
    await once(ws, 'open');
    ws.send(`0${Buffer.from([0xff, 0x00, 0x41, 0x42]).toString('base64')}`);
    const { messages } = await got;
    expect(messages.every((m) => m.text)).toBe(true);
    const stdout = Buffer.concat(
      messages.filter((m) => m.data[0] === 0x31).map((m) => Buffer.from(m.data.subarray(1).toString(), 'base64')),
    );
    expect(stdout).toEqual(Buffer.from([0xff, 0x00, 0x41]));
    const status = messages.find((m) => m.data[0] === 0x33)!;
    expect(JSON.parse(Buffer.from(status.data.subarray(1).toString(), 'base64').toString()).status).toBe('Success');
  });

  it('v5.channel.k8s.io: the close signal ends stdin', async () => {
    const h = await serve({ echo: true });
    const ws = new WebSocket(wsUrl(h, '/api/v1/namespaces/d/pods/p/exec?command=cat&stdin=true&stdout=true'), [
      'v5.channel.k8s.io',
    ]);
    const got = collect(ws);
    await once(ws, 'open');
    ws.send(Buffer.from('\x00abc'));
    ws.send(Buffer.from([0xff, 0x00]));
    const { messages } = await got;
    const stdout = Buffer.concat(messages.filter((m) => m.data[0] === 1).map((m) => m.data.subarray(1)));
    expect(stdout.toString()).toBe('abc');
    expect(JSON.parse(messages.find((m) => m.data[0] === 3)!.data.subarray(1).toString()).status).toBe('Success');
  });

  it('native WebSocket port-forward: port prefixes, then echo on the data channel', async () => {
    const target = await echoServer();
    const h = await serve({});
    const ws = new WebSocket(wsUrl(h, `/api/v1/namespaces/d/pods/p/portforward?ports=${target.port}`), [
      'v4.channel.k8s.io',
    ]);
    const messages: Buffer[] = [];
    let echoed = Buffer.alloc(0);
    const payload = randomBytes(50_000);
    const done = new Promise<void>((resolve) =>
      ws.on('message', (d: Buffer) => {
        messages.push(Buffer.from(d));
        if (messages.length > 2 && d[0] === 0) echoed = Buffer.concat([echoed, d.subarray(1)]);
        if (echoed.length >= payload.length) resolve();
      }),
    );
    await once(ws, 'open');
    ws.send(Buffer.concat([Buffer.from([0]), payload]));
    await done;
    const le = Buffer.from([target.port & 0xff, target.port >> 8]);
    expect(messages[0]).toEqual(Buffer.concat([Buffer.from([0]), le]));
    expect(messages[1]).toEqual(Buffer.concat([Buffer.from([1]), le]));
    expect(echoed.equals(payload)).toBe(true);
    ws.close();
    await target.close();
  });
});
