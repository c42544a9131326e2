/**
 * The tap's own door: a one-time bearer token that only the kubeconfig the
 * tap writes carries. Any local process can reach a loopback port; only the
 * holder of this token (a file readable by the user alone) gets to act as
 * the user upstream. `kubectl proxy`, by contrast, serves every local process.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { dump as toYaml } from 'js-yaml';

/** 256 random bits, URL-safe. */
export function newLocalToken(): string {
  return randomBytes(32).toString('base64url');
}

export type LocalTokenCheck = 'ok' | 'missing' | 'not-bearer' | 'wrong';

/**
 * Constant-time: both sides are hashed first, so neither the token's length
 * nor a matching prefix shows in the timing.
 */
export function checkLocalToken(authorization: string | null, token: string): LocalTokenCheck {
  if (authorization === null) return 'missing';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  const given = createHash('sha256').update(m?.[1] ?? '').digest();
  const want = createHash('sha256').update(token).digest();
  const same = timingSafeEqual(given, want);
  if (!m) return 'not-bearer';
  return same ? 'ok' : 'wrong';
}

export interface LocalKubeconfigOptions {
  /** `https://127.0.0.1:PORT` of the tap. */
  server: string;
  /** PEM the tap presents. */
  caPem: string;
  token: string;
  /** The upstream context's name, kept so prompts and scripts still read the same. */
  contextName: string;
  namespace?: string;
}

export function localKubeconfigYaml(opts: LocalKubeconfigOptions): string {
  const name = 'kubewire-tap';
  const context: Record<string, string> = { cluster: name, user: name };
  if (opts.namespace) context.namespace = opts.namespace;
  return toYaml(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name, cluster: { server: opts.server, 'certificate-authority-data': Buffer.from(opts.caPem).toString('base64') } }],
      users: [{ name, user: { token: opts.token } }],
      contexts: [{ name: opts.contextName, context }],
      'current-context': opts.contextName,
    },
    { lineWidth: -1 },
  );
}

/** Where the tap's kubeconfig went, and how to take it away again. */
export interface LocalKubeconfigFile {
  path: string;
  /**
   * Removes the temp folder the file was written into. Its token opens a tap
   * that has stopped, so nothing of it should outlive the tap; a path the
   * user named (`--kubeconfig-out`) is theirs and stays.
   */
  remove(): void;
}

/**
 * Write the kubeconfig readable by the user alone (0600, also when the file
 * was there before). Without a path: a fresh 0700 folder in the temp dir.
 */
export function writeLocalKubeconfig(yaml: string, path?: string): LocalKubeconfigFile {
  const folder = path ? undefined : mkdtempSync(join(tmpdir(), 'kubewire-tap-'));
  const file = path ?? join(folder!, 'kubeconfig');
  const remove = () => {
    if (folder) rmSync(folder, { recursive: true, force: true });
  };
  try {
    if (path) mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(file, 'w', 0o600);
    try {
      writeSync(fd, yaml);
    } finally {
      closeSync(fd);
    }
    chmodSync(file, 0o600);
  } catch (e) {
    remove();
    throw e;
  }
  return { path: file, remove };
}
