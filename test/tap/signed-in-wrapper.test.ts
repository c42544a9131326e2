/**
 * `kubewire tap -- kubectl …` and `kubectl wire …` with real kubectl 1.27
 * and 1.33, signed in as a client-certificate, a token and an exec-plugin
 * user: kubectl behaves as it does without kubewire, and the summary the
 * wrapper prints equals the decoded recording it wrote.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlMissing } from '../helpers/kubectl.js';
import { opensslMissing } from '../helpers/pki.js';
import { kubectlChecks } from './signed-in-checks.js';
import { CLI, run, startUpstream, wireWay, wrapperWay, type Upstream, type Way } from './signed-in-harness.js';
import { execFileSync } from 'node:child_process';

let upstream: Upstream;
beforeAll(async () => {
  if (!opensslMissing()) upstream = await startUpstream();
});
afterAll(async () => {
  await upstream?.close();
});

const kinds = ['cert', 'token', 'exec'] as const;
const ways = [
  { label: 'kubewire tap -- kubectl', make: wrapperWay },
  { label: 'kubectl wire', make: wireWay },
];

for (const version of ['1.27', '1.33']) {
  const missing = kubectlMissing(version) ?? opensslMissing();
  if (missing) console.warn(`skipping the signed-in tap with kubectl ${version}: ${missing}`);
  for (const w of ways) {
    for (const kind of kinds) {
      (missing ? describe.skip : describe)(`${w.label}, kubectl ${version}, ${kind} user`, () => {
        let way: Way;
        beforeAll(() => {
          way = w.make(version, upstream.kubeconfigs[kind]);
        });
        kubectlChecks(() => way, () => upstream, kind);

        it("without --out, kubewire's summary goes to stderr after kubectl's own lines", async () => {
          const r = await run(way, ['exec', 'web', '--', 'sh', '-c', 'echo out; exit 7'], { tapOptions: [] });
          expect(r.code).toBe(7);
          expect(r.stdout.toString()).toBe('out\n');
          const err = r.stderr.toString();
          expect(err).toMatch(/^command terminated with exit code 7\nSession 1: exec /);
          expect(err).toMatch(/1 session, \d+ connections?, 0 diagnostics\n$/);
        });

        it("the summary the tap printed at the end equals its recording decoded; kubectl's stdout is kubectl's alone", async () => {
          const dir = mkdtempSync(join(tmpdir(), 'kubewire-wrap-rec-'));
          const input = randomBytes(200_000);
          const r = await run(way, ['exec', '-i', 'web', '--', 'sh', '-c', 'cat; exit 3'], {
            stdin: input,
            tapOptions: ['--summary', '--json', '--out', join(dir, 'summary.json'), '--write', join(dir, 'tap.pcapng')],
          });
          expect(r.code).toBe(3);
          expect(Buffer.compare(r.stdout, input)).toBe(0);
          const live = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
          const decoded = JSON.parse(execFileSync(process.execPath, [CLI, 'decode', join(dir, 'tap.pcapng'), '--summary', '--json'], { encoding: 'utf8' }));
          expect(decoded).toEqual(live);
          const exec = live.sessions.filter((s: { kind: string }) => s.kind === 'exec');
          expect(exec).toHaveLength(1);
          expect(exec[0].exit.code).toBe(3);
          // The user's credential is in neither output.
          const text = readFileSync(join(dir, 'tap.pcapng')).toString('latin1') + JSON.stringify(live);
          expect(text).not.toContain('token-user-secret');
          expect(text).not.toMatch(/Bearer exec-\d/);
        });
      });
    }
  }
}

for (const version of ['1.27', '1.33']) {
  const missing = kubectlMissing(version) ?? opensslMissing();
  (missing ? describe.skip : describe)(`kubewire tap -- kubectl ${version}: signals reach the command`, () => {
    it('Ctrl-C on the terminal reaches the remote shell of a TTY session', async () => {
      const { onTerminal } = await import('./signed-in-harness.js');
      const t = await onTerminal(wrapperWay(version, upstream.kubeconfigs.token), [
        'exec', '-it', 'web', '--', 'sh', '-c', 'trap "echo got-int; exit 9" INT; echo ready; while :; do sleep 0.1; done',
      ], [{ wait: 'ready' }, { sleep: 0.3 }, { write: '\x03' }, { wait: 'got-int' }]);
      expect(t.screen).toContain('got-int');
      expect(t.code).toBe(9);
    });

    it('SIGTERM sent to kubewire is passed on to kubectl; kubewire exits as kubectl did and still prints the summary', async () => {
      const { spawnWay } = await import('./signed-in-harness.js');
      const child = spawnWay(wrapperWay(version, upstream.kubeconfigs.token), ['exec', 'web', '--', 'sh', '-c', 'echo started; sleep 30'], []);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const { waitForText } = await import('./helpers.js');
      await waitForText(child, 'started', 20_000);
      const started = Date.now();
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      // kubectl (Go) dies of SIGTERM: 128 + 15.
      expect(code).toBe(143);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(stderr).toMatch(/Session 1: exec /);
    });
  });
}
