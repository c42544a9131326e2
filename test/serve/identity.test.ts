/**
 * Identity as kube-apiserver checks it, against real kubectl (1.27 over
 * SPDY, 1.33 over WebSocket): client certificates verified against
 * `--client-ca` (a certificate from another CA, or none, gets the server's
 * 401, not a TLS failure), `--token-file` users, and the request log naming
 * who sent each request. Upgrade requests are refused with the same 401
 * Status on the SPDY and the WebSocket path.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type ServeHandle } from '../../src/serve/index.js';
import { kubectlBinary, kubectlMissing, runKubectl } from '../helpers/kubectl.js';
import { makePki, opensslMissing, writeCertKubeconfig, writeTokenKubeconfig, type KeyPair, type Pki } from '../helpers/pki.js';

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');
const UNAUTHORIZED_STATUS = {
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: 'Unauthorized',
  reason: 'Unauthorized',
  code: 401,
};
/** What kubectl (1.27 and 1.33 alike) prints when discovery gets a 401. */
const KUBECTL_401 = 'error: You must be logged in to the server (the server has asked for the client to provide credentials)';

const noOpenssl = opensslMissing();
if (noOpenssl) console.warn(`skipping identity tests: ${noOpenssl}`);
const withPki = noOpenssl ? describe.skip : describe;

let pki: Pki;
beforeAll(() => {
  if (!noOpenssl) pki = makePki();
});
afterAll(() => pki?.cleanup());

/** The exec request's log line (SPDY or WebSocket upgrade). */
const execLine = (lines: string[]) => lines.find((l) => l.includes('/pods/web/exec?') && l.includes('(upgrade:'));

withPki('kubewire serve --client-ca', () => {
  let serve: ServeHandle;
  const logs: string[] = [];
  let alice: KeyPair;
  let rogue: KeyPair;

  beforeAll(async () => {
    alice = pki.client('alice', ['dev', 'ops']);
    rogue = pki.rogueClient('mallory', ['dev']);
    serve = await startServe({
      tls: { cert: pki.server.cert, key: pki.server.key },
      clientCa: pki.ca.cert,
      log: (l) => logs.push(l),
    });
  });
  afterAll(async () => serve?.close());

  it('prints a kubeconfig with no credential, saying what to add', () => {
    expect(serve.kubeconfig).toContain('{} # replace {} with client-certificate-data and client-key-data');
    expect(serve.kubeconfig).not.toContain('token:');
  });

  for (const c of [
    { version: '1.27', label: 'kubectl 1.27 (SPDY)', transport: 'SPDY/3.1' },
    { version: '1.33', label: 'kubectl 1.33 (WebSocket)', transport: 'websocket' },
  ]) {
    const missing = kubectlMissing(c.version);
    if (missing) console.warn(`skipping ${c.label}: ${missing}`);
    describe.skipIf(!!missing)(c.label, () => {
      const bin = () => kubectlBinary(c.version)!;

      it('a kind-style kubeconfig with a client certificate: exec works and the log names CN and O', async () => {
        logs.length = 0;
        const kubeconfig = writeCertKubeconfig(serve.url, pki.ca.cert, alice);
        const r = await runKubectl(bin(), ['exec', '-i', 'web', '--', 'sh', '-c', 'cat; exit 7'], {
          kubeconfig,
          stdin: 'through mTLS\n',
        });
        expect(r.stderr.toString()).toContain('command terminated with exit code 7');
        expect(r.code).toBe(7);
        expect(r.stdout.toString()).toBe('through mTLS\n');
        const line = execLine(logs);
        expect(line, logs.join('\n')).toContain(`(upgrade: ${c.transport}) user=alice groups=dev,ops auth=x509`);
        // Every request of the run (discovery, GET pod, the upgrade) was alice's.
        const requests = logs.filter((l) => /^(GET|POST) /.test(l));
        expect(requests.length).toBeGreaterThanOrEqual(2);
        for (const l of requests) expect(l).toContain('user=alice groups=dev,ops auth=x509');
      });

      it('a certificate from another CA: kubectl shows the 401, the log says why, mallory is never admitted', async () => {
        logs.length = 0;
        const kubeconfig = writeCertKubeconfig(serve.url, pki.ca.cert, rogue);
        const r = await runKubectl(bin(), ['exec', '-i', 'web', '--', 'echo', 'no'], { kubeconfig, stdin: '' });
        expect(r.code).toBe(1);
        expect(r.stdout.length).toBe(0);
        expect(r.stderr.toString()).toContain(KUBECTL_401);
        expect(logs.length).toBeGreaterThan(0);
        for (const l of logs) {
          expect(l).toContain('401 Unauthorized (client certificate did not verify against --client-ca (UNABLE_TO_VERIFY_LEAF_SIGNATURE))');
        }
        expect(logs.join('\n')).not.toContain('user=');
        expect(execLine(logs)).toBeUndefined();
      });

      it('no credentials the server takes: 401 (and with none at all kubectl never asks)', async () => {
        logs.length = 0;
        // With an empty user for an HTTPS server, kubectl prompts for a user
        // name and password before any request; on a closed stdin it stops
        // with "error: EOF", and the server sees nothing.
        const empty = await runKubectl(bin(), ['exec', 'web', '--', 'echo', 'no'], {
          kubeconfig: writeTokenKubeconfig(serve.url, pki.ca.cert, ''),
        });
        expect(empty.code).toBe(1);
        expect(empty.stderr.toString()).toBe('error: EOF\n');
        expect(logs).toEqual([]);
        // A bearer token is no credential for a server with only --client-ca:
        // the requests arrive without a certificate and get 401.
        const r = await runKubectl(bin(), ['exec', 'web', '--', 'echo', 'no'], {
          kubeconfig: writeTokenKubeconfig(serve.url, pki.ca.cert, 'some-token'),
        });
        expect(r.code).toBe(1);
        expect(r.stderr.toString()).toContain(KUBECTL_401);
        expect(logs.length).toBeGreaterThan(0);
        for (const l of logs) expect(l).toContain('401 Unauthorized (no client certificate)');
        expect(logs.join('\n')).not.toContain('some-token');
      });
    });
  }
});

withPki('kubewire serve --token-file (the command)', () => {
  const tokens = { ann: `ann-${randomBytes(12).toString('hex')}`, ben: `ben-${randomBytes(12).toString('hex')}` };
  let child: ChildProcess;
  let stderr = '';
  let stdout = '';
  let url = '';

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubewire-tokens-'));
    const file = join(dir, 'tokens.csv');
    writeFileSync(file, `${tokens.ann},ann,1001,"qa,team b"\n\n${tokens.ben},ben,1002\n`);
    child = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, 'serve', '--listen', '127.0.0.1:0', '--echo', '--token-file', file,
        '--tls-cert', pki.server.certFile, '--tls-key', pki.server.keyFile],
      { cwd: join(import.meta.dirname, '../..'), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 20_000);
      // Ready once the last status line and the whole kubeconfig are out.
      const check = () => {
        const m = /listening on (https:\/\/\S+)[\s\S]*kubeconfig follows/.exec(stderr);
        if (m && stdout.includes('current-context:') && !url) {
          url = m[1]!;
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString();
        check();
      });
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        check();
      });
    });
  });
  afterAll(async () => {
    if (!child) return;
    child.kill('SIGTERM');
    await once(child, 'close');
  });

  it('says at start which credentials it takes, and prints no token of the file', () => {
    expect(stderr).toContain('authentication required on every request: the tokens of 2 user(s) in');
    expect(stdout).toContain('{} # replace {} with token: <a token of the token file>');
    for (const t of Object.values(tokens)) expect(stdout + stderr).not.toContain(t);
  });

  for (const version of ['1.27', '1.33']) {
    const missing = kubectlMissing(version);
    if (missing) console.warn(`skipping kubectl ${version}: ${missing}`);
    describe.skipIf(!!missing)(`kubectl ${version}`, () => {
      const bin = () => kubectlBinary(version)!;

      it('two users with their own tokens both exec, each logged as itself', async () => {
        for (const [user, expected] of [
          ['ann', 'user=ann groups=qa,"team b" auth=token'],
          ['ben', 'user=ben auth=token'],
        ] as const) {
          const from = stderr.length;
          const kubeconfig = writeTokenKubeconfig(url, pki.ca.cert, tokens[user]);
          const r = await runKubectl(bin(), ['exec', '-i', 'web', '--', 'cat'], { kubeconfig, stdin: `hello from ${user}\n` });
          expect(r.code).toBe(0);
          expect(r.stdout.toString()).toBe(`hello from ${user}\n`);
          const lines = stderr.slice(from).split('\n');
          expect(execLine(lines), stderr.slice(from)).toContain(expected);
        }
      });

      it('a wrong token gets 401, and no token is ever printed', async () => {
        const from = stderr.length;
        const wrong = `${tokens.ann}x`;
        const kubeconfig = writeTokenKubeconfig(url, pki.ca.cert, wrong);
        const r = await runKubectl(bin(), ['exec', 'web', '--', 'echo', 'no'], { kubeconfig });
        expect(r.code).toBe(1);
        expect(r.stderr.toString()).toContain(KUBECTL_401);
        expect(stderr.slice(from)).toContain('401 Unauthorized (invalid bearer token)');
        for (const t of [wrong, tokens.ann, tokens.ben]) expect(stderr).not.toContain(t);
      });
    });
  }
});

/** An upgrade request (or, `plain`, a GET of the pod) over HTTPS: the status and body when refused, or 101. */
function upgradeRequest(
  url: string,
  kind: 'spdy' | 'websocket' | 'plain',
  opts: { ca: string; client?: KeyPair; token?: string },
): Promise<{ status: number; body: string; contentType?: string }> {
  const u = new URL(kind === 'plain' ? '/api/v1/namespaces/default/pods/web' : '/api/v1/namespaces/default/pods/web/exec?command=true&stdout=true', url);
  const headers: Record<string, string> =
    kind === 'plain'
      ? {}
      : kind === 'spdy'
      ? { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' }
      : {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
          'Sec-WebSocket-Protocol': 'v5.channel.k8s.io',
        };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  return new Promise((resolve, reject) => {
    const req = https.request(u, {
      method: kind === 'spdy' ? 'POST' : 'GET',
      headers,
      ca: opts.ca,
      cert: opts.client?.cert,
      key: opts.client?.key,
      agent: false,
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, contentType: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

withPki('upgrade requests without a valid identity', () => {
  let serve: ServeHandle;
  const logs: string[] = [];
  const token = randomBytes(16).toString('hex');

  beforeAll(async () => {
    serve = await startServe({
      echo: true,
      tls: { cert: pki.server.cert, key: pki.server.key },
      clientCa: pki.ca.cert,
      tokens: [{ token, user: 'tina', groups: ['ops'] }],
      log: (l) => logs.push(l),
    });
  });
  afterAll(async () => serve?.close());

  it('a plain request without a certificate or token gets the same 401 Status', async () => {
    const r = await upgradeRequest(serve.url, 'plain', { ca: pki.ca.cert });
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body)).toEqual(UNAUTHORIZED_STATUS);
  });

  for (const kind of ['spdy', 'websocket'] as const) {
    it(`${kind}: no certificate, a rogue certificate or a wrong token get the apiserver's 401 Status`, async () => {
      for (const opts of [{}, { client: pki.rogueClient('mallory') }, { token: `${token}0` }]) {
        const r = await upgradeRequest(serve.url, kind, { ca: pki.ca.cert, ...opts });
        expect(r.status).toBe(401);
        expect(r.contentType).toBe('application/json');
        expect(JSON.parse(r.body)).toEqual(UNAUTHORIZED_STATUS);
      }
    });

    it(`${kind}: the same upgrade with a valid certificate, or a rogue certificate and a valid token, is switched`, async () => {
      logs.length = 0;
      const ok = await upgradeRequest(serve.url, kind, { ca: pki.ca.cert, client: pki.client('carl', ['a', 'b']) });
      expect(ok.status).toBe(101);
      // As the union authenticator: the failed certificate is no veto, the token still counts.
      const both = await upgradeRequest(serve.url, kind, { ca: pki.ca.cert, client: pki.rogueClient('mallory'), token });
      expect(both.status).toBe(101);
      const upgrades = logs.filter((l) => l.includes('(upgrade:'));
      expect(upgrades).toHaveLength(2);
      expect(upgrades[0]).toContain('user=carl groups=a,b auth=x509');
      expect(upgrades[1]).toContain('user=tina groups=ops auth=token');
    });
  }
});
