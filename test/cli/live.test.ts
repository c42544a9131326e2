/**
 * A live pipe: `tcpdump -U -i lo -w - port P | kubewire decode - --ndjson`
 * prints a session's events while the session is still going.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServe } from '../../src/serve/index.js';
import { captureUnavailable, findTool } from '../../scripts/fixtures/capture.js';
import { kubectlBinary } from '../helpers/kubectl.js';
import { CLI, cliMissing } from './helpers.js';

const kubectl = kubectlBinary('1.27');
const skip = cliMissing() ?? captureUnavailable('pcap') ?? (kubectl ? null : 'kubectl.1.27 not found beside kubectl on PATH');
if (skip) console.warn(`live pipe test skipped: ${skip}`);

interface Line {
  kind: string;
  role?: string;
  base64?: string;
  status?: string;
}

function waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = () => {
      if (pred()) return resolve();
      if (Date.now() - start > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 25);
    };
    tick();
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe.skipIf(skip !== null)('live pipe', () => {
  it('tcpdump -U -w - | kubewire decode - --ndjson shows the session before it ends', { timeout: 60_000 }, async () => {
    const serve = await startServe();
    const dir = mkdtempSync(join(tmpdir(), 'kubewire-live-'));
    const kubeconfig = join(dir, 'config');
    writeFileSync(kubeconfig, serve.kubeconfig);
    const children: ChildProcess[] = [];
    try {
      const tcpdump = spawn(findTool('tcpdump')!, ['-U', '-i', 'lo', '-s', '0', '-w', '-', `tcp port ${serve.port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(tcpdump);
      let tcpdumpErr = '';
      tcpdump.stderr!.on('data', (d: Buffer) => (tcpdumpErr += d.toString()));
      await waitFor(() => tcpdumpErr.includes('listening on'), 10_000, 'tcpdump to listen');

      const cli = spawn(process.execPath, [CLI, 'decode', '-', '--ndjson', '--bytes'], { stdio: ['pipe', 'pipe', 'pipe'] });
      children.push(cli);
      tcpdump.stdout!.pipe(cli.stdin!);
      const lines: Line[] = [];
      let partial = '';
      cli.stdout!.on('data', (d: Buffer) => {
        partial += d.toString();
        const parts = partial.split('\n');
        partial = parts.pop()!;
        for (const p of parts) lines.push(JSON.parse(p) as Line);
      });

      // The remote command waits for a line of stdin, which we send only after
      // the decoder has shown the first output: the session cannot have ended.
      const kc = spawn(kubectl!, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), 'exec', '-i', 'p', '--', 'sh', '-c', 'echo first; read x; echo "second $x"'], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      children.push(kc);
      let kcOut = '';
      kc.stdout!.on('data', (d: Buffer) => (kcOut += d.toString()));

      const sawFirst = () => lines.some((l) => l.kind === 'stream-data' && l.role === 'stdout' && Buffer.from(l.base64!, 'base64').toString() === 'first\n');
      await waitFor(sawFirst, 20_000, 'the first stdout bytes in the NDJSON output');
      expect(lines.some((l) => l.kind === 'session-start')).toBe(true);
      expect(lines.some((l) => l.kind === 'exit')).toBe(false);
      expect(kc.exitCode).toBeNull();

      kc.stdin!.end('go\n');
      expect(await exited(kc)).toBe(0);
      expect(kcOut).toBe('first\nsecond go\n');
      await waitFor(() => lines.some((l) => l.kind === 'exit'), 20_000, 'the exit event');
      expect(lines.find((l) => l.kind === 'exit')!.status).toBe('Success');

      tcpdump.kill('SIGTERM');
      expect([0, 1]).toContain(await exited(cli));
    } finally {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await serve.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
