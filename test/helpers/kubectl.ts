/**
 * Real kubectl clients for interop tests: the image ships versioned binaries
 * (`kubectl.1.27` … `kubectl.1.33`) beside its `kubectl`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

let kubectlDir: string | null | undefined;

function findKubectlDir(): string | null {
  if (kubectlDir !== undefined) return kubectlDir;
  try {
    const which = execFileSync('which', ['kubectl'], { encoding: 'utf8' }).trim();
    kubectlDir = which ? dirname(realpathSync(which)) : null;
  } catch {
    kubectlDir = null;
  }
  return kubectlDir;
}

/** Path of `kubectl.<version>` (e.g. '1.27'), or null when this machine has none. */
export function kubectlBinary(version: string): string | null {
  const dir = findKubectlDir();
  if (!dir) return null;
  const p = join(dir, `kubectl.${version}`);
  return existsSync(p) ? p : null;
}

/** Write a kubeconfig pointing at `server` and return its path. */
export function writeKubeconfig(server: string, opts: { token?: string; insecure?: boolean; caFile?: string } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubewire-kc-'));
  const path = join(dir, 'config');
  const cluster = [`    server: ${server}`];
  if (opts.insecure) cluster.push('    insecure-skip-tls-verify: true');
  if (opts.caFile) cluster.push(`    certificate-authority: ${opts.caFile}`);
  const user = opts.token ? [`    token: ${opts.token}`] : ['    {}'];
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: local',
      '  cluster:',
      ...cluster,
      'users:',
      '- name: local',
      '  user:',
      ...user,
      'contexts:',
      '- name: local',
      '  context:',
      '    cluster: local',
      '    user: local',
      '    namespace: default',
      'current-context: local',
      '',
    ].join('\n'),
  );
  return path;
}

export interface KubectlResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
}

export interface RunKubectlOptions {
  kubeconfig: string;
  stdin?: Uint8Array | string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Called with the child once spawned (e.g. to connect to a port-forward). */
  onSpawn?: (child: ReturnType<typeof spawn>) => void;
}

/** Run `kubectl <args>` with a fresh cache dir and bounded time. */
export function runKubectl(binary: string, args: string[], opts: RunKubectlOptions): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'kubewire-kcache-'));
    const child = spawn(binary, ['--kubeconfig', opts.kubeconfig, '--cache-dir', cacheDir, ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cacheDir, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
    });
    child.stdin.on('error', () => {});
    if (opts.stdin !== undefined) child.stdin.end(opts.stdin);
    else child.stdin.end();
    opts.onSpawn?.(child);
  });
}

/** Skip reason when kubectl of that version is not on this machine. */
export function kubectlMissing(version: string): string | null {
  return kubectlBinary(version) ? null : `kubectl.${version} not found beside kubectl on PATH`;
}
