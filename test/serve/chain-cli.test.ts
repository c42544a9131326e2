/**
 * `kubewire serve --chain` and `--as` as a user runs them: the built CLI, the
 * kubeconfig on stdout, the three ports on stderr, real kubectl through it,
 * the hop records in --record's file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, cliMissing, runCli } from '../cli/helpers.js';
import { kubectlBinary, kubectlMissing, runKubectl } from '../helpers/kubectl.js';

const missing = cliMissing() ?? kubectlMissing('1.27');
if (missing) console.warn(`skipping serve --chain CLI tests: ${missing}`);

/** Start `kubewire serve ARGS`; resolve once stderr shows `ready`. */
async function start(args: string[], ready: RegExp): Promise<{ child: ChildProcess; stdout: () => string; stderr: () => string }> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready: ${err}`)), 20_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (ready.test(err) && out.includes('current-context')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stdout!.on('data', () => {
      if (ready.test(err) && out.includes('current-context')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  return { child, stdout: () => out, stderr: () => err };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

(missing ? describe.skip : describe)('kubewire serve --chain (CLI)', () => {
  it('prints the kubeconfig and three ports; kubectl 1.27 exec crosses them; --record writes one line per hop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubewire-chain-cli-'));
    const record = join(dir, 'hops.jsonl');
    const s = await start(['--chain', '--record', record], /ports apiserver=\d+ kubelet=\d+ runtime=\d+/);
    try {
      const [, a, k, r] = /ports apiserver=(\d+) kubelet=(\d+) runtime=(\d+)/.exec(s.stderr())!;
      expect(new Set([a, k, r]).size).toBe(3);
      expect(s.stdout()).toContain(`server: http://127.0.0.1:${a}`);
      const kubeconfig = join(dir, 'config');
      writeFileSync(kubeconfig, s.stdout());
      const res = await runKubectl(kubectlBinary('1.27')!, ['exec', '-i', 'web', '--', 'sh', '-c', 'cat; exit 9'], { kubeconfig, stdin: 'through three hops\n' });
      expect(res.code).toBe(9);
      expect(res.stdout.toString()).toBe('through three hops\n');
      for (let i = 0; i < 100 && readLines(record).length < 3; i++) await new Promise((x) => setTimeout(x, 50));
      const lines = readLines(record);
      expect(lines.map((l) => l.hop).sort()).toEqual(['apiserver', 'kubelet', 'runtime']);
      for (const l of lines) {
        expect(l.exit).toEqual({ code: 9 });
        const stdin = l.streams.find((x) => x.role === 'stdin')!;
        expect(stdin.clientToServer.bytes).toBe(19);
      }
      // The kubelet and runtime listen where stderr said.
      expect(lines.find((l) => l.hop === 'runtime')!.serverPort).toBe(Number(r));
      expect(lines.find((l) => l.hop === 'apiserver')!.serverPort).toBe(Number(k));
    } finally {
      await stop(s.child);
    }
  }, 60_000);

  it('--as kubelet without --upstream, and --chain with --as, are usage errors (exit 2)', async () => {
    const a = await runCli(['serve', '--as', 'kubelet']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('--as kubelet needs --upstream');
    const b = await runCli(['serve', '--chain', '--as', 'runtime']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--chain starts every hop');
    const c = await runCli(['serve', '--chain', '--apiserver-version', 'latest']);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('--apiserver-version');
  });

  it('--help documents the hop flags with examples', async () => {
    const h = await runCli(['serve', '--help']);
    expect(h.code).toBe(0);
    const text = h.stdout.toString();
    for (const flag of ['--as', '--upstream', '--apiserver-version', '--chain', '--record']) expect(text).toContain(flag);
    expect(text).toContain('serve --chain --kubeconfig-out chain.yaml');
  });
});

interface Line {
  hop: string;
  serverPort: number;
  exit: unknown;
  streams: Array<{ role: string; clientToServer: { bytes: number } }>;
}

function readLines(file: string): Line[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
  } catch {
    return [];
  }
}
