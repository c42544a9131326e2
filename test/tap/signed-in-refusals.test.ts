/**
 * What a signed-in tap refuses, and what it passes on: a caller without the
 * tap's token gets the tap's own 401 and the upstream sees nothing; a user
 * the upstream rejects sees the upstream's own message, exactly as without
 * kubewire; an exec plugin runs again after expiry and after a 401; a
 * kubeconfig the tap cannot use is one line and exit 2, with nothing left
 * listening.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlBinary, kubectlMissing } from '../helpers/kubectl.js';
import { opensslMissing } from '../helpers/pki.js';
import { CLI, baseEnv, directWay, pluginRuns, run, startUpstream, wrapperWay, type Upstream } from './signed-in-harness.js';

let upstream: Upstream;
beforeAll(async () => {
  if (!opensslMissing()) upstream = await startUpstream({ ttlSeconds: 2 });
});
afterAll(async () => {
  await upstream?.close();
});

const missing = kubectlMissing('1.27') ?? kubectlMissing('1.33') ?? opensslMissing();
if (missing) console.warn(`skipping signed-in tap refusals: ${missing}`);

(missing ? describe.skip : describe)('a signed-in tap refuses and passes on', () => {
  for (const version of ['1.27', '1.33']) {
    it(`kubectl ${version} with a wrong local token: the tap's 401 and why, and nothing reaches the upstream`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kubewire-wrong-token-'));
      const script = join(dir, 'wrong.sh');
      // Inside the wrapper: the tap's kubeconfig, with its token replaced.
      writeFileSync(
        script,
        `#!/bin/sh\nsed 's/token: .*/token: not-the-tap-token/' "$KUBECONFIG" > "${dir}/wrong"\nexec "${kubectlBinary(version)}" --kubeconfig "${dir}/wrong" get --raw /api\n`,
      );
      const before = upstream.log.length;
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [CLI, 'tap', '--kubeconfig', upstream.kubeconfigs.token, '--', 'sh', script], {
          env: baseEnv(),
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => resolve({ code, stderr }));
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/wrong bearer token: use the kubeconfig this tap wrote/);
      expect(upstream.log.slice(before)).toEqual([]);
    });

    it(`kubectl ${version}, a user whose certificate the upstream rejects: kubectl shows the upstream's own message`, async () => {
      const direct = await run(directWay(version, upstream.kubeconfigs.rogue), ['get', '--raw', '/api']);
      const tapped = await run(wrapperWay(version, upstream.kubeconfigs.rogue), ['get', '--raw', '/api']);
      expect(direct.code).toBe(1);
      expect(tapped.code).toBe(direct.code);
      expect(direct.stderr.toString()).toMatch(/Unauthorized/);
      // kubewire's summary follows kubectl's own lines on stderr.
      expect(tapped.stderr.toString().startsWith(direct.stderr.toString())).toBe(true);
    });
  }

  it('an exec plugin runs again after its credential expires, and after the upstream answers 401', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubewire-exec-refresh-'));
    const kubeconfig = join(dir, 'kubeconfig');
    const tap = spawn(process.execPath, [CLI, 'tap', '--kubeconfig', upstream.kubeconfigs.exec, '--kubeconfig-out', kubeconfig], {
      env: baseEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    tap.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const deadline = Date.now() + 20_000;
      while (!stderr.includes('export KUBECONFIG=') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const way = directWay('1.33', kubeconfig);
      const runs0 = pluginRuns(upstream); // the tap ran it once at start
      expect(runs0).toBeGreaterThanOrEqual(1);
      const users = () => upstream.log.map((l) => /user=(exec-user-\d+)/.exec(l)?.[1]).filter(Boolean);

      expect((await run(way, ['get', '--raw', '/api'])).code).toBe(0);
      const first = users().at(-1);
      await new Promise((r) => setTimeout(r, 2500)); // past the 2 s expiry
      expect((await run(way, ['get', '--raw', '/api'])).code).toBe(0);
      expect(pluginRuns(upstream)).toBeGreaterThan(runs0);
      expect(users().at(-1)).not.toBe(first);

      // The plugin's next answer is a token the upstream does not know.
      await new Promise((r) => setTimeout(r, 2500));
      writeFileSync(join(upstream.pluginDir, 'revoked'), '');
      const rejected = await run(way, ['get', '--raw', '/api']);
      expect(rejected.code).toBe(1);
      expect(rejected.stderr.toString()).toMatch(/Unauthorized/);
      const afterReject = pluginRuns(upstream);
      const again = await run(way, ['get', '--raw', '/api']);
      expect(again.code).toBe(0);
      expect(pluginRuns(upstream)).toBe(afterReject + 1);
    } finally {
      tap.kill('SIGTERM');
      await new Promise((r) => tap.once('close', r));
    }
  });
});

describe('a kubeconfig the tap cannot use: one line, exit 2, nothing listening', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubewire-bad-kc-'));
  const good = (user: string) =>
    `clusters: [{name: k, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: ${user}}]\ncontexts: [{name: c, context: {cluster: k, user: u}}]\ncurrent-context: c\n`;
  const hang = join(dir, 'hang.sh');
  writeFileSync(hang, '#!/bin/sh\nsleep 60\n', { mode: 0o755 });
  const fail = join(dir, 'fail.sh');
  writeFileSync(fail, '#!/bin/sh\necho "login required" >&2\nexit 5\n', { mode: 0o755 });
  const cases: Array<{ label: string; text: string; args?: string[]; message: RegExp }> = [
    { label: 'a file that does not parse', text: 'clusters: [\n', message: /\.yaml: does not parse as YAML: .* at line 2, column 1/ },
    { label: 'a missing context', text: good('{token: t}'), args: ['--context', 'elsewhere'], message: /context "elsewhere" not found/ },
    { label: 'a missing cluster', text: good('{token: t}'), args: ['--cluster', 'gone'], message: /cluster "gone" not found/ },
    { label: 'a missing user', text: good('{token: t}'), args: ['--user', 'nobody'], message: /user "nobody" not found/ },
    { label: 'a certificate file that is missing', text: good('{client-certificate: nope.crt, client-key: nope.key}'), message: /user "u": client-certificate .*nope\.crt: no such file/ },
    {
      label: 'an exec plugin that fails',
      text: good(`{exec: {apiVersion: client.authentication.k8s.io/v1, command: "${fail}", interactiveMode: Never}}`),
      message: /user "u": exec credential plugin .*fail\.sh exited with code 5/,
    },
    {
      label: 'an exec plugin that hangs past its timeout',
      text: good(`{exec: {apiVersion: client.authentication.k8s.io/v1, command: "${hang}", interactiveMode: Never}}`),
      args: ['--exec-timeout', '1'],
      message: /did not answer within 1 s/,
    },
  ];
  for (const c of cases) {
    it(c.label, () => {
      const file = join(dir, `${c.label.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(file, c.text);
      let code = 0;
      let stderr = '';
      const started = Date.now();
      try {
        execFileSync(process.execPath, [CLI, 'tap', '--kubeconfig', file, ...(c.args ?? [])], { env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
      } catch (e) {
        const err = e as { status: number; stderr: Buffer };
        code = err.status;
        stderr = err.stderr.toString();
      }
      // The process has exited: nothing it opened is listening.
      expect(code).toBe(2);
      // One line of ours (a plugin's own stderr is the user's to see, as with kubectl).
      const lines = stderr.trim().split('\n');
      expect(lines.filter((l) => l.startsWith('kubewire tap:'))).toHaveLength(1);
      expect(lines.at(-1)).toMatch(c.message);
      expect(Date.now() - started).toBeLessThan(15_000);
    });
  }
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
});
