/**
 * The other live path: `tcpdump -U -i lo -w - port P | kubewire decode - --ndjson`
 * prints a kubectl session's first events while the session is still
 * running (plain HTTP to `kubewire serve`, so the wire is readable).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startServe } from '../../src/serve/index.js';
import { kubectlBinary, kubectlMissing } from '../helpers/kubectl.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function tcpdumpPath(): string | null {
  try {
    return execFileSync('which', ['tcpdump'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

const tcpdump = tcpdumpPath();
const missing = !tcpdump ? 'tcpdump not found on PATH' : kubectlMissing('1.33');
if (missing) console.warn(`skipping the tcpdump | kubewire decode live pipe test: ${missing}`);

describe.skipIf(missing !== null)('tcpdump | kubewire decode - --ndjson', () => {
  it("shows a running kubectl exec's session before it ends", async (ctx) => {
    const serve = await startServe({});
    const dir = mkdtempSync(join(tmpdir(), 'kubewire-live-pipe-'));
    const kubeconfig = join(dir, 'config');
    writeFileSync(kubeconfig, serve.kubeconfig);
    // tcpdump writes the capture to the shell pipe; decode reads it from stdin.
    const pipeline = spawn(
      'sh',
      [
        '-c',
        `exec "${tcpdump}" -U -i lo -w - "tcp port ${serve.port}" | exec "${process.execPath}" --import tsx "${join(root, 'src/cli/main.ts')}" decode - --ndjson`,
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    let out = '';
    let err = '';
    pipeline.stdout.on('data', (d: Buffer) => (out += d.toString()));
    pipeline.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const until = async (what: string, ok: () => boolean) => {
      for (let i = 0; i < 400 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
      if (!ok()) throw new Error(`timed out waiting for ${what}; stderr: ${err}`);
    };
    let kubectl: ReturnType<typeof spawn> | undefined;
    try {
      try {
        await until('tcpdump to listen', () => /listening on/.test(err));
      } catch (e) {
        if (/permission|not permitted|socket/i.test(err)) {
          console.warn(`skipping: cannot capture on lo here (${err.trim().split('\n')[0]})`);
          ctx.skip();
        }
        throw e;
      }
      kubectl = spawn(
        kubectlBinary('1.33')!,
        ['--kubeconfig', kubeconfig, '--cache-dir', mkdtempSync(join(dir, 'kc-')), 'exec', '-i', 'web', '--', 'cat'],
        { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir } },
      );
      const echoed = new Promise<string>((resolve) => kubectl!.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
      kubectl.stdin!.write('still running\n');
      expect(await echoed).toBe('still running\n');
      const events = () =>
        out
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => JSON.parse(l) as { kind: string; role?: string });
      await until('the session and its stdout on the decode side', () =>
        events().some((e) => e.kind === 'stream-data' && e.role === 'stdout'),
      );
      expect(kubectl.exitCode).toBeNull();
      expect(events().some((e) => e.kind === 'session-start')).toBe(true);
      expect(events().some((e) => e.kind === 'session-end')).toBe(false);
      kubectl.stdin!.end();
      await new Promise((resolve) => (kubectl!.exitCode !== null ? resolve(null) : kubectl!.once('close', resolve)));
      expect(kubectl.exitCode).toBe(0);
    } finally {
      kubectl?.kill('SIGKILL');
      // Stop tcpdump (and with it the pipe); decode then ends on end of input.
      if (pipeline.pid) {
        try {
          process.kill(-pipeline.pid, 'SIGINT');
        } catch {
          // already gone
        }
      }
      await new Promise((resolve) => (pipeline.exitCode !== null ? resolve(null) : pipeline.once('close', resolve)));
      await serve.close();
    }
  });
});
