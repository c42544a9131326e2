/**
 * `kubewire tap --kubeconfig FILE` as a long-running process, with real
 * kubectl 1.27 and 1.33 pointed at the kubeconfig the tap wrote: every check
 * of the wrapper, then the live `--summary --json` at SIGTERM equals `decode`
 * of the `--write` recording of the whole run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlMissing } from '../helpers/kubectl.js';
import { opensslMissing } from '../helpers/pki.js';
import { kubectlChecks } from './signed-in-checks.js';
import { CLI, baseEnv, directWay, startUpstream, type Upstream, type Way } from './signed-in-harness.js';

let upstream: Upstream;
beforeAll(async () => {
  if (!opensslMissing()) upstream = await startUpstream();
});
afterAll(async () => {
  await upstream?.close();
});

for (const version of ['1.27', '1.33']) {
  const missing = kubectlMissing(version) ?? opensslMissing();
  if (missing) console.warn(`skipping the signed-in tap with kubectl ${version}: ${missing}`);
  for (const kind of ['cert', 'token', 'exec'] as const) {
    (missing ? describe.skip : describe)(`kubewire tap --kubeconfig, kubectl ${version}, ${kind} user`, () => {
      let tap: ChildProcess;
      let dir: string;
      let way: Way;
      let stderr = '';
      beforeAll(async () => {
        dir = mkdtempSync(join(tmpdir(), 'kubewire-signed-tap-'));
        tap = spawn(
          process.execPath,
          [CLI, 'tap', '--kubeconfig', upstream.kubeconfigs[kind], '--kubeconfig-out', join(dir, 'kubeconfig'),
            '--write', join(dir, 'tap.pcapng'), '--summary', '--json', '--out', join(dir, 'summary.json')],
          { env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
        );
        tap.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        const deadline = Date.now() + 20_000;
        while (!stderr.includes('export KUBECONFIG=') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(stderr).toContain(`export KUBECONFIG=${join(dir, 'kubeconfig')}`);
        way = directWay(version, join(dir, 'kubeconfig'));
      });

      it('writes a kubeconfig readable by the user alone, which keeps the context and its namespace', () => {
        expect(statSync(join(dir, 'kubeconfig')).mode & 0o777).toBe(0o600);
        const text = readFileSync(join(dir, 'kubeconfig'), 'utf8');
        expect(text).toMatch(/namespace: default/);
        expect(text).toMatch(/server: https:\/\/127\.0\.0\.1:\d+/);
        // The user's own credentials never leave the tap.
        expect(text).not.toContain('token-user-secret');
        expect(text).not.toContain('client-key');
      });

      kubectlChecks(() => way, () => upstream, kind);

      it('at SIGTERM: exit 0, and the live summary equals the recording decoded', async () => {
        tap.kill('SIGTERM');
        const code = await new Promise<number | null>((resolve) => tap.once('close', resolve));
        expect(code).toBe(0);
        expect(existsSync(join(dir, 'summary.json'))).toBe(true);
        const live = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
        const run = spawnSync(process.execPath, [CLI, 'decode', join(dir, 'tap.pcapng'), '--summary', '--json'], { encoding: 'utf8' });
        // Exit 1 is for diagnostics, which the live summary must then have too; say what they were.
        const diagnostics = (doc: string) => {
          try {
            return JSON.stringify((JSON.parse(doc) as { diagnostics?: unknown }).diagnostics);
          } catch {
            return 'no summary';
          }
        };
        expect(run.status, `decode of the recording: ${run.stderr}; diagnostics ${diagnostics(run.stdout)}; live ${JSON.stringify(live.diagnostics)}; tap stderr: ${stderr}`).toBe(
          live.diagnostics ? 1 : 0,
        );
        const decoded = JSON.parse(run.stdout);
        expect(decoded).toEqual(live);
        const kinds = live.sessions.map((s: { kind: string }) => s.kind);
        expect(kinds).toContain('exec');
        expect(kinds).toContain('portforward');
        expect(stderr).not.toContain('token-user-secret');
      });
    });
  }
}
