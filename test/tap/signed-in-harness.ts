/**
 * Real kubectl through a signed-in tap, three ways (`kubewire tap
 * --kubeconfig` with kubectl pointed at the tap's own kubeconfig, the
 * wrapper `kubewire tap -- kubectl …`, and the `kubectl wire` plugin), to a
 * `kubewire serve` that checks identity like kube-apiserver
 * (`--client-ca`, token file), with three kinds of user: kind-style client
 * certificates, a bearer token, and an exec credential plugin.
 *
 * A `Way` turns kubectl arguments into the argv a person would type, so
 * every check runs the same under each way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServe, type ServeHandle } from '../../src/serve/index.js';
import { kubectlBinary } from '../helpers/kubectl.js';
import { makePki, writeCertKubeconfig, writeConfig, writeTokenKubeconfig, type Pki } from '../helpers/pki.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');
export const WIRE = join(ROOT, 'dist', 'cli', 'kubectl-wire.js');

export interface Upstream {
  pki: Pki;
  serve: ServeHandle;
  /** serve's request log (names each request's user). */
  log: string[];
  kubeconfigs: { cert: string; token: string; exec: string; rogue: string };
  /** Folder of the exec plugin: `runs` counts its runs. */
  pluginDir: string;
  close(): Promise<void>;
}

export const TOKEN_USER_TOKEN = 'token-user-secret-4f0c8a';
/** Tokens the exec plugin hands out (`exec-<n>`); serve knows them all but `exec-revoked`. */
const EXEC_TOKENS = Array.from({ length: 400 }, (_, i) => `exec-${i + 1}`);

/**
 * The plugin answers run n with `exec-<n>` valid for `$KUBEWIRE_TEST_TTL` seconds
 * (default 3600), or with `exec-revoked` while the file `revoked` exists.
 */
const PLUGIN = `#!/bin/sh
n=$(cat "$DIR/runs" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$DIR/runs"
tok="exec-$n"; [ -f "$DIR/revoked" ] && tok=exec-revoked && rm -f "$DIR/revoked"
exp=$(date -u -d "+\${KUBEWIRE_TEST_TTL:-3600} seconds" +%Y-%m-%dT%H:%M:%SZ)
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}' "$tok" "$exp"
`;

export async function startUpstream(opts: { ttlSeconds?: number } = {}): Promise<Upstream> {
  const pki = makePki();
  const log: string[] = [];
  const serve = await startServe({
    tls: { cert: pki.server.cert, key: pki.server.key },
    clientCa: pki.ca.cert,
    tokens: [
      { token: TOKEN_USER_TOKEN, user: 'token-user', uid: '1001', groups: ['devs'] },
      ...EXEC_TOKENS.map((token, i) => ({ token, user: `exec-user-${i + 1}`, uid: String(2000 + i), groups: ['plugin'] })),
    ],
    log: (line) => log.push(line),
  });
  const pluginDir = mkdtempSync(join(tmpdir(), 'kubewire-exec-plugin-'));
  const plugin = join(pluginDir, 'creds.sh');
  writeFileSync(plugin, `#!/bin/sh\nDIR='${pluginDir}'\n${PLUGIN}`);
  chmodSync(plugin, 0o755);
  const cert = writeCertKubeconfig(serve.url, pki.ca.cert, pki.client('kind-admin', ['system:masters']));
  const rogue = writeCertKubeconfig(serve.url, pki.ca.cert, pki.rogueClient('kind-admin', ['system:masters']));
  const token = writeTokenKubeconfig(serve.url, pki.ca.cert, TOKEN_USER_TOKEN);
  const exec = writeExecKubeconfig(serve.url, pki.ca.cert, plugin, opts.ttlSeconds);
  return {
    pki,
    serve,
    log,
    pluginDir,
    kubeconfigs: { cert, token, exec, rogue },
    close: async () => {
      await serve.close();
      pki.cleanup();
    },
  };
}

function writeExecKubeconfig(server: string, caPem: string, plugin: string, ttl?: number): string {
  return writeConfig(server, caPem, [
    '    exec:',
    '      apiVersion: client.authentication.k8s.io/v1',
    `      command: ${plugin}`,
    '      interactiveMode: Never',
    '      env:',
    '      - name: KUBEWIRE_TEST_TTL',
    `        value: "${ttl ?? 3600}"`,
  ]);
}

export function pluginRuns(u: Upstream): number {
  const f = join(u.pluginDir, 'runs');
  return existsSync(f) ? Number(readFileSync(f, 'utf8')) : 0;
}

/** How a person runs one kubectl command through the tap. */
export interface Way {
  label: string;
  argv(kubectlArgs: string[], tapOptions?: string[]): string[];
  env: Record<string, string>;
}

/** A fresh HOME (kubectl's discovery cache) and PATH with the plugin shim. */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  const home = mkdtempSync(join(tmpdir(), 'kubewire-home-'));
  return { PATH: `${shimDir()}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: home, ...extra };
}

let shim: string | undefined;
/** `kubectl-wire` on PATH, as `npm install -g` leaves it. */
function shimDir(): string {
  if (shim) return shim;
  shim = mkdtempSync(join(tmpdir(), 'kubewire-bin-'));
  mkdirSync(shim, { recursive: true });
  writeFileSync(join(shim, 'kubectl-wire'), `#!/bin/sh\nexec "${process.execPath}" "${WIRE}" "$@"\n`);
  chmodSync(join(shim, 'kubectl-wire'), 0o755);
  return shim;
}

/**
 * kubewire's own output goes to stderr after kubectl's: checks that compare
 * kubectl's stderr send it to a file instead, unless told otherwise.
 */
function quietByDefault(tapOptions: string[] | undefined): string[] {
  return tapOptions ?? ['--out', join(mkdtempSync(join(tmpdir(), 'kubewire-out-')), 'summary.txt')];
}

/** The wrapper: `kubewire tap --kubeconfig K [options] -- kubectl …`. */
export function wrapperWay(version: string, kubeconfig: string): Way {
  const bin = kubectlBinary(version)!;
  return {
    label: 'kubewire tap -- kubectl',
    argv: (args, tapOptions) => [process.execPath, CLI, 'tap', '--kubeconfig', kubeconfig, ...quietByDefault(tapOptions), '--', bin, ...args],
    env: baseEnv(),
  };
}

/** The plugin: `kubectl wire [options] SUB --kubeconfig K …` (kubectl's own flag chooses the upstream). */
export function wireWay(version: string, kubeconfig: string): Way {
  const bin = kubectlBinary(version)!;
  return {
    label: 'kubectl wire',
    argv: (args, tapOptions) => [bin, 'wire', ...quietByDefault(tapOptions), args[0]!, '--kubeconfig', kubeconfig, ...args.slice(1)],
    env: baseEnv({ KUBEWIRE_KUBECTL: bin }),
  };
}

/** kubectl pointed at a running tap's kubeconfig. */
export function directWay(version: string, kubeconfig: string, label = 'kubectl --kubeconfig'): Way {
  const bin = kubectlBinary(version)!;
  return { label, argv: (args) => [bin, '--kubeconfig', kubeconfig, ...args], env: baseEnv() };
}

export interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: Buffer;
}

export function run(way: Way, args: string[], opts: { stdin?: Buffer | string; tapOptions?: string[]; timeoutMs?: number } = {}): Promise<RunResult> {
  const argv = way.argv(args, opts.tapOptions);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: way.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 40_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.stdin ?? '');
  });
}

export function spawnWay(way: Way, args: string[], tapOptions?: string[]): ChildProcess {
  const argv = way.argv(args, tapOptions);
  return spawn(argv[0]!, argv.slice(1), { env: way.env, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Runs argv on a terminal of `size` with the pty driver's steps; resolves to what the terminal showed and the exit code. */
export function onTerminal(
  way: Way,
  args: string[],
  steps: Array<{ wait: string } | { write: string } | { resize: [number, number] } | { sleep: number }>,
  size: [number, number] = [80, 24],
): Promise<{ code: number | null; screen: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'kubewire-pty-'));
  const spec = join(dir, 'spec.json');
  const out = join(dir, 'out');
  writeFileSync(spec, JSON.stringify({ argv: way.argv(args), env: way.env, size, steps, timeout: 40 }));
  return new Promise((resolvePromise, reject) => {
    const child = spawn('python3', [join(ROOT, 'scripts', 'fixtures', 'pty-driver.py'), spec, out], { stdio: ['ignore', 'pipe', 'pipe'] });
    const err: Buffer[] = [];
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      const screen = existsSync(out) ? readFileSync(out, 'latin1') : '';
      if (code === null) reject(new Error(`pty driver died: ${Buffer.concat(err).toString()}`));
      else resolvePromise({ code, screen });
    });
  });
}
