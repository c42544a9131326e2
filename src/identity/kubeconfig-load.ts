/**
 * Finding and merging kubeconfig files the way kubectl does (client-go's
 * clientcmd loading rules), so that the tap signs in as whoever kubectl
 * would have signed in as:
 *
 * - `--kubeconfig FILE`: that file alone, and it must exist;
 * - else every file of `$KUBECONFIG` (the platform's path-list separator),
 *   in order, skipping empty entries, repeats and files that do not exist;
 * - else `~/.kube/config` when it exists.
 *
 * Merging: the first file that names a cluster, user or context wins that
 * name, and the first file that sets `current-context` wins it. Relative
 * paths inside a file (CA, client certificate and key, token file, an exec
 * plugin command given as a path) are taken relative to that file's folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { load as parseYaml } from 'js-yaml';
import { KubeconfigError } from './errors.js';
import type { RawCluster, RawContext, RawUser } from './kubeconfig-types.js';

export interface Named<T> {
  name: string;
  value: T;
  /** The file the entry was taken from. */
  file: string;
}

export interface MergedKubeconfig {
  /** Files read, in merge order. */
  files: string[];
  currentContext?: string;
  clusters: Map<string, Named<RawCluster>>;
  users: Map<string, Named<RawUser>>;
  contexts: Map<string, Named<RawContext>>;
}

export interface LoadOptions {
  /** `--kubeconfig`: this file alone. */
  kubeconfig?: string;
  env?: NodeJS.ProcessEnv;
  home?: string;
}

/** The files kubectl would read, in order. */
export function kubeconfigFiles(opts: LoadOptions = {}): string[] {
  if (opts.kubeconfig) {
    const file = resolve(opts.kubeconfig);
    if (!existsSync(file)) throw new KubeconfigError(file, 'no such file');
    return [file];
  }
  const env = opts.env ?? process.env;
  const list = env.KUBECONFIG;
  if (list) {
    const seen = new Set<string>();
    for (const entry of list.split(delimiter)) {
      if (!entry) continue;
      const file = resolve(entry);
      if (!seen.has(file) && existsSync(file)) seen.add(file);
    }
    return [...seen];
  }
  const file = join(opts.home ?? homedir(), '.kube', 'config');
  return existsSync(file) ? [file] : [];
}

export function loadKubeconfig(opts: LoadOptions = {}): MergedKubeconfig {
  const merged: MergedKubeconfig = { files: [], clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const file of kubeconfigFiles(opts)) {
    const doc = readDocument(file);
    merged.files.push(file);
    if (merged.currentContext === undefined && typeof doc['current-context'] === 'string' && doc['current-context']) {
      merged.currentContext = doc['current-context'];
    }
    const base = dirname(file);
    addEntries(merged.clusters, doc.clusters, 'cluster', file, (c: RawCluster) => absoluteCluster(c, base));
    addEntries(merged.users, doc.users, 'user', file, (u: RawUser) => absoluteUser(u, base));
    addEntries(merged.contexts, doc.contexts, 'context', file, (c: RawContext) => c);
  }
  return merged;
}

interface RawDocument {
  'current-context'?: unknown;
  clusters?: unknown;
  users?: unknown;
  contexts?: unknown;
}

function readDocument(file: string): RawDocument {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new KubeconfigError(file, `cannot read: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    // As kubectl's YAML reader: a key given twice takes its last value.
    doc = parseYaml(text, { json: true });
  } catch (e) {
    const y = e as Error & { reason?: string; mark?: { line: number; column: number } };
    const at = y.mark ? ` at line ${y.mark.line + 1}, column ${y.mark.column + 1}` : '';
    throw new KubeconfigError(file, `does not parse as YAML: ${y.reason ?? y.message.split('\n')[0]}${at}`);
  }
  if (doc === undefined || doc === null) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new KubeconfigError(file, 'is not a kubeconfig (expected a mapping at the top)');
  return doc as RawDocument;
}

function addEntries<T>(into: Map<string, Named<T>>, list: unknown, field: string, file: string, fix: (v: T) => T): void {
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) throw new KubeconfigError(file, `${field}s: expected a list`);
  list.forEach((item: unknown, i) => {
    const entry = item as { name?: unknown } & Record<string, unknown>;
    if (!entry || typeof entry !== 'object' || typeof entry.name !== 'string' || !entry.name) {
      throw new KubeconfigError(file, `${field}s[${i}]: missing name`);
    }
    const value = entry[field];
    if (value !== undefined && value !== null && (typeof value !== 'object' || Array.isArray(value))) {
      throw new KubeconfigError(file, `${field}s[${i}] (${entry.name}): ${field} must be a mapping`);
    }
    if (!into.has(entry.name)) into.set(entry.name, { name: entry.name, value: fix({ ...((value ?? {}) as T) }), file });
  });
}

function absolutePath(p: unknown, base: string): string | undefined {
  if (typeof p !== 'string' || !p) return undefined;
  return isAbsolute(p) ? p : resolve(base, p);
}

function absoluteCluster(c: RawCluster, base: string): RawCluster {
  const ca = absolutePath(c['certificate-authority'], base);
  return ca ? { ...c, 'certificate-authority': ca } : c;
}

function absoluteUser(u: RawUser, base: string): RawUser {
  const out: RawUser = { ...u };
  for (const key of ['client-certificate', 'client-key', 'tokenFile'] as const) {
    const p = absolutePath(u[key], base);
    if (p) out[key] = p;
  }
  // A plugin named by a relative path (`./bin/creds`) lives beside the file;
  // a bare name is looked up on PATH.
  if (u.exec && typeof u.exec.command === 'string' && u.exec.command.includes('/') && !isAbsolute(u.exec.command)) {
    out.exec = { ...u.exec, command: resolve(base, u.exec.command) };
  }
  return out;
}
