/**
 * The checks every way of running kubectl through a signed-in tap must
 * pass, with real kubectl against `serve --client-ca`: stdin byte-exact,
 * exit codes, a TTY with a resize, parallel port-forward connections,
 * `kubectl cp` both ways. Each is the same test under every way and user.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { echoServer, freePort, roundTrip, waitForText } from './helpers.js';
import { onTerminal, run, spawnWay, type Upstream, type Way } from './signed-in-harness.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The users serve must have seen for this kubeconfig kind. */
export const EXPECTED_USER: Record<'cert' | 'token' | 'exec', RegExp> = {
  cert: /user=kind-admin/,
  token: /user=token-user/,
  exec: /user=exec-user-\d+/,
};

export function kubectlChecks(way: () => Way, upstream: () => Upstream, kind: 'cert' | 'token' | 'exec'): void {
  it('exec with 3 MiB of stdin comes back byte-exact, as the kubeconfig user', async () => {
    const input = randomBytes(3 * 1024 * 1024);
    const before = upstream().log.length;
    const r = await run(way(), ['exec', '-i', 'web', '--', 'cat'], { stdin: input });
    expect(r.stderr.toString()).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(input.length);
    expect(sha(r.stdout)).toBe(sha(input));
    const seen = upstream().log.slice(before).join('\n');
    expect(seen).toMatch(EXPECTED_USER[kind]);
  });

  it('exit code 7 and stderr pass through', async () => {
    const r = await run(way(), ['exec', 'web', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(r.code).toBe(7);
    expect(r.stdout.toString()).toBe('out\n');
    expect(r.stderr.toString()).toContain('err\n');
    expect(r.stderr.toString()).toMatch(/command terminated with exit code 7/);
  });

  it('a TTY session sees its size and a resize', async () => {
    const t = await onTerminal(
      way(),
      // The first size travels beside the exec's start (as with a real kubelet): wait until it has arrived.
      ['exec', '-it', 'web', '--', 'sh', '-c', 'while [ "$(stty size)" = "0 0" ]; do sleep 0.05; done; stty size; read x; stty size; exit 4'],
      [{ wait: '24 80' }, { resize: [100, 40] }, { sleep: 0.5 }, { write: 'go\r' }, { wait: '40 100' }],
    );
    expect(t.screen).toContain('24 80');
    expect(t.screen).toContain('40 100');
    expect(t.code).toBe(4);
  });

  it('port-forward carries parallel connections byte-exact', async () => {
    const target = await echoServer();
    const local = await freePort();
    const child = spawnWay(way(), ['port-forward', 'pod/web', `${local}:${target.port}`]);
    try {
      await waitForText(child, 'Forwarding from', 30_000);
      const payloads = [0, 1, 2, 3].map(() => randomBytes(60_000 + Math.floor(Math.random() * 60_000)));
      const echoed = await Promise.all(payloads.map((p) => roundTrip(local, p)));
      echoed.forEach((e, i) => expect(sha(e)).toBe(sha(payloads[i]!)));
    } finally {
      child.kill('SIGINT');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('close', resolve)));
      await target.close();
    }
  });

  it('kubectl cp both ways is byte-exact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubewire-cp-'));
    const data = randomBytes(700_000);
    writeFileSync(join(dir, 'up.bin'), data);
    const remote = join(dir, 'remote.bin');
    const up = await run(way(), ['cp', join(dir, 'up.bin'), `web:${remote}`]);
    expect(up.stderr.toString()).not.toMatch(/error/i);
    expect(up.code).toBe(0);
    expect(sha(readFileSync(remote))).toBe(sha(data));
    const down = await run(way(), ['cp', `web:${remote}`, join(dir, 'down.bin')]);
    expect(down.code).toBe(0);
    expect(sha(readFileSync(join(dir, 'down.bin')))).toBe(sha(data));
  });
}
