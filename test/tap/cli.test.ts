/**
 * `kubewire tap` as a process: the kubeconfig it prints works for kubectl,
 * `--ndjson` shows a session while it is still running, and SIGINT ends it
 * in order (exit 0, outputs flushed, a recording `kubewire decode` reads to
 * the same summary).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type ServeHandle } from '../../src/serve/index.js';
import { kubectlBinary, kubectlMissing, runKubectl, writeKubeconfig } from '../helpers/kubectl.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TOKEN = 'kw-cli-tap-token-9f31b2';
let serve: ServeHandle;
let dir: string;
let serveCaFile: string;

beforeAll(async () => {
  serve = await startServe({ token: TOKEN, tls: true });
  dir = mkdtempSync(join(tmpdir(), 'kubewire-tap-cli-'));
  serveCaFile = join(dir, 'serve-ca.pem');
  const caData = /certificate-authority-data: (\S+)/.exec(serve.kubeconfig)![1]!;
  writeFileSync(serveCaFile, Buffer.from(caData, 'base64'));
});
afterAll(async () => {
  await serve?.close();
});

interface Cli {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function kubewire(args: string[]): Cli {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function until<T>(what: string, get: () => T | null | undefined, cli: Cli, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== null && v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stderr:\n${cli.stderr()}\nstdout:\n${cli.stdout()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The server URL and CA from the kubeconfig snippet the tap prints. */
async function tapKubeconfig(cli: Cli): Promise<string> {
  const server = await until('the kubeconfig snippet', () => /certificate-authority-data: \S+/.test(cli.stderr()) ? /server: (\S+)/.exec(cli.stderr())?.[1] : null, cli);
  const ca = /certificate-authority-data: (\S+)/.exec(cli.stderr())![1]!;
  const caFile = join(mkdtempSync(join(dir, 'ca-')), 'tap-ca.pem');
  writeFileSync(caFile, Buffer.from(ca, 'base64'));
  return writeKubeconfig(server, { token: TOKEN, caFile });
}

const missing = kubectlMissing('1.33');
if (missing) console.warn(`skipping kubewire tap CLI tests: ${missing}`);

(missing ? describe.skip : describe)('kubewire tap (process)', () => {
  it('prints a kubeconfig kubectl can use; on SIGINT exits 0 with the summary, and the recording decodes to the same summary', async () => {
    const pcap = join(dir, 'cli.pcapng');
    const cli = kubewire(['tap', '--upstream', serve.url, '--upstream-ca', serveCaFile, '--write', pcap, '--summary', '--json', '--grace', '2']);
    try {
      const kubeconfig = await tapKubeconfig(cli);
      const r = await runKubectl(kubectlBinary('1.33')!, ['exec', 'web', '--', 'sh', '-c', 'printf hello; exit 4'], { kubeconfig });
      expect(r.stdout.toString()).toBe('hello');
      expect(r.code).toBe(4);
      cli.child.kill('SIGINT');
      expect(await cli.exit).toBe(0);
    } finally {
      cli.child.kill('SIGKILL');
    }
    const live = JSON.parse(cli.stdout());
    const exec = live.sessions.filter((s: { kind: string }) => s.kind === 'exec');
    expect(exec).toHaveLength(1);
    expect(exec[0].exit).toMatchObject({ code: 4 });
    expect(cli.stdout()).not.toContain(TOKEN);
    expect(cli.stderr()).toContain('stopping');

    const decode = kubewire(['decode', pcap, '--summary', '--json']);
    expect(await decode.exit).toBe(0);
    expect(JSON.parse(decode.stdout())).toEqual(live);
  });

  it('--ndjson shows a session as it happens, before it ends', async () => {
    const cli = kubewire(['tap', '--upstream', serve.url, '--upstream-ca', serveCaFile, '--ndjson', '--grace', '1']);
    let kubectl: ReturnType<typeof spawn> | undefined;
    try {
      const kubeconfig = await tapKubeconfig(cli);
      // A session that waits for stdin, which we hold open.
      kubectl = spawn(kubectlBinary('1.33')!, ['--kubeconfig', kubeconfig, '--cache-dir', mkdtempSync(join(dir, 'kc-')), 'exec', '-i', 'web', '--', 'cat'], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
      });
      const echoed = new Promise<string>((resolve) => kubectl!.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
      kubectl.stdin!.write('first line\n');
      expect(await echoed).toBe('first line\n');
      const lines = await until(
        'stream-data events for the running session',
        () => {
          const events = cli
            .stdout()
            .split('\n')
            .filter((l) => l.trim())
            .map((l) => JSON.parse(l) as { kind: string; role?: string; direction?: string });
          return events.some((e) => e.kind === 'stream-data' && e.role === 'stdout') ? events : null;
        },
        cli,
      );
      expect(lines.some((e) => e.kind === 'session-start')).toBe(true);
      expect(lines.some((e) => e.kind === 'session-end')).toBe(false);
      kubectl.stdin!.end();
      await new Promise((resolve) => kubectl!.once('close', resolve));
      cli.child.kill('SIGTERM');
      expect(await cli.exit).toBe(0);
      const after = cli.stdout().split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as { kind: string });
      expect(after.some((e) => e.kind === 'session-end' || e.kind === 'exit')).toBe(true);
    } finally {
      kubectl?.kill('SIGKILL');
      cli.child.kill('SIGKILL');
    }
  });

  it('a bad --upstream is a usage error (exit 2)', async () => {
    const cli = kubewire(['tap', '--upstream', 'ftp://example']);
    expect(await cli.exit).toBe(2);
    expect(cli.stderr()).toContain('--upstream');
  });
});
