/**
 * From merged kubeconfig files to the one upstream the tap talks to: the
 * context kubectl would use (`--context`, else `current-context`; `--cluster`,
 * `--user` and `--namespace` override the context's own), its cluster's
 * server and TLS settings, and its user's credentials, each checked and
 * loaded now, so that a missing file or a bad field is an error before
 * anything listens.
 */
import { readFileSync } from 'node:fs';
import { KubeconfigError } from './errors.js';
import { loadKubeconfig, type LoadOptions, type MergedKubeconfig, type Named } from './kubeconfig-load.js';
import type { RawCluster, RawExecConfig, RawUser } from './kubeconfig-types.js';
import { checkExecConfig, type ExecConfig } from './exec-config.js';

export interface SelectOptions extends LoadOptions {
  context?: string;
  cluster?: string;
  user?: string;
  namespace?: string;
}

export interface UpstreamCluster {
  name: string;
  /** `https://host:port` with any path prefix the server URL has (e.g. `/k8s/clusters/c-1`). */
  server: URL;
  ca?: Buffer;
  insecure: boolean;
  tlsServerName?: string;
  proxyUrl?: URL;
  /** `extensions[client.authentication.k8s.io/exec].extension`, for exec plugins that ask for cluster info. */
  execExtension?: unknown;
}

export interface Impersonation {
  user?: string;
  uid?: string;
  groups: string[];
  extra: Array<[key: string, value: string]>;
}

export interface UpstreamUser {
  name: string;
  /** PEM, loaded. */
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  /** Read again whenever it may have changed (projected tokens rotate). */
  tokenFile?: string;
  basic?: { username: string; password: string };
  exec?: ExecConfig;
  impersonate?: Impersonation;
}

export interface UpstreamTarget {
  contextName: string;
  namespace?: string;
  cluster: UpstreamCluster;
  user: UpstreamUser;
  /** Files the target came from, for messages. */
  files: string[];
}

export function resolveUpstream(opts: SelectOptions = {}): UpstreamTarget {
  const kc = loadKubeconfig(opts);
  return selectTarget(kc, opts);
}

export function selectTarget(kc: MergedKubeconfig, opts: SelectOptions): UpstreamTarget {
  const files = kc.files.length ? kc.files.join(', ') : 'no kubeconfig file';
  const contextName = opts.context ?? kc.currentContext;
  if (!contextName && !(opts.cluster && opts.user)) {
    throw new KubeconfigError(files, 'no current-context is set (pass --context)');
  }
  let ctx: Named<{ cluster?: unknown; user?: unknown; namespace?: unknown }> | undefined;
  if (contextName) {
    ctx = kc.contexts.get(contextName);
    if (!ctx) throw new KubeconfigError(files, `context "${contextName}" not found`);
  }
  const where = ctx ? `${ctx.file}: context "${ctx.name}"` : files;
  const clusterName = opts.cluster ?? stringField(ctx?.value.cluster, where, 'cluster');
  const userName = opts.user ?? stringField(ctx?.value.user, where, 'user');
  if (!clusterName) throw new KubeconfigError(where, 'names no cluster');
  const cluster = kc.clusters.get(clusterName);
  if (!cluster) throw new KubeconfigError(where, `cluster "${clusterName}" not found`);
  // kubectl allows a context without a user (anonymous); so do we.
  const user = userName ? kc.users.get(userName) : undefined;
  if (userName && !user) throw new KubeconfigError(where, `user "${userName}" not found`);
  const namespace = opts.namespace ?? stringField(ctx?.value.namespace, where, 'namespace');
  return {
    contextName: contextName ?? `${clusterName}/${userName}`,
    namespace: namespace || undefined,
    cluster: resolveCluster(cluster),
    user: user ? resolveUser(user) : { name: '' },
    files: kc.files,
  };
}

function resolveCluster(entry: Named<RawCluster>): UpstreamCluster {
  const where = `${entry.file}: cluster "${entry.name}"`;
  const c = entry.value;
  const serverText = stringField(c.server, where, 'server');
  if (!serverText) throw new KubeconfigError(where, 'has no server');
  let server: URL;
  try {
    server = new URL(serverText);
  } catch {
    throw new KubeconfigError(where, `server is not a URL: ${JSON.stringify(serverText)}`);
  }
  if (server.protocol !== 'https:' && server.protocol !== 'http:') {
    throw new KubeconfigError(where, `server must be http or https, got ${JSON.stringify(server.protocol)}`);
  }
  const insecure = c['insecure-skip-tls-verify'] === true || c['insecure-skip-tls-verify'] === 'true';
  const ca = pemFrom(c['certificate-authority'], c['certificate-authority-data'], where, 'certificate-authority');
  if (insecure && ca) {
    // client-go refuses this combination; the user meant one or the other.
    throw new KubeconfigError(where, 'sets both insecure-skip-tls-verify and a certificate authority');
  }
  let proxyUrl: URL | undefined;
  const proxyText = stringField(c['proxy-url'], where, 'proxy-url');
  if (proxyText) {
    try {
      proxyUrl = new URL(proxyText);
    } catch {
      throw new KubeconfigError(where, `proxy-url is not a URL: ${JSON.stringify(proxyText)}`);
    }
    if (!['http:', 'https:', 'socks5:', 'socks5h:'].includes(proxyUrl.protocol)) {
      throw new KubeconfigError(where, `proxy-url: only http, https (HTTP CONNECT) and socks5 proxies are supported, got ${proxyUrl.protocol}`);
    }
  }
  return {
    name: entry.name,
    server,
    ca,
    insecure,
    tlsServerName: stringField(c['tls-server-name'], where, 'tls-server-name') || undefined,
    proxyUrl,
    execExtension: execExtension(c.extensions),
  };
}

function resolveUser(entry: Named<RawUser>): UpstreamUser {
  const where = `${entry.file}: user "${entry.name}"`;
  const u = entry.value;
  const out: UpstreamUser = { name: entry.name };
  out.cert = pemFrom(u['client-certificate'], u['client-certificate-data'], where, 'client-certificate');
  out.key = pemFrom(u['client-key'], u['client-key-data'], where, 'client-key');
  if (!!out.cert !== !!out.key) {
    throw new KubeconfigError(where, out.cert ? 'has a client certificate but no client key' : 'has a client key but no client certificate');
  }
  const token = stringField(u.token, where, 'token');
  if (token) out.token = token;
  const tokenFile = stringField(u.tokenFile, where, 'tokenFile');
  if (tokenFile) {
    readText(tokenFile, where, 'tokenFile');
    out.tokenFile = tokenFile;
  }
  const username = stringField(u.username, where, 'username');
  if (username) out.basic = { username, password: stringField(u.password, where, 'password') ?? '' };
  if (u['auth-provider'] !== undefined && u['auth-provider'] !== null) {
    const name = (u['auth-provider'] as { name?: unknown }).name;
    throw new KubeconfigError(
      where,
      `auth-provider ${JSON.stringify(name)} is not supported (kubectl itself dropped the built-in providers; use an exec plugin such as kubelogin or gke-gcloud-auth-plugin)`,
    );
  }
  if (u.exec !== undefined && u.exec !== null) out.exec = checkExecConfig(u.exec as RawExecConfig, where);
  const impersonate = impersonation(u, where);
  if (impersonate) out.impersonate = impersonate;
  return out;
}

function impersonation(u: RawUser, where: string): Impersonation | undefined {
  const user = stringField(u.as, where, 'as');
  const uid = stringField(u['as-uid'], where, 'as-uid');
  const groups = stringList(u['as-groups'], where, 'as-groups');
  const extra: Array<[string, string]> = [];
  const rawExtra = u['as-user-extra'];
  if (rawExtra !== undefined && rawExtra !== null) {
    if (typeof rawExtra !== 'object' || Array.isArray(rawExtra)) throw new KubeconfigError(where, 'as-user-extra must be a mapping');
    for (const [k, v] of Object.entries(rawExtra)) for (const value of stringList(v, where, `as-user-extra.${k}`)) extra.push([k, value]);
  }
  if (!user && !uid && groups.length === 0 && extra.length === 0) return undefined;
  if (!user && (groups.length || extra.length || uid)) {
    throw new KubeconfigError(where, 'as-groups, as-uid and as-user-extra need as (the user to impersonate)');
  }
  return { user: user || undefined, uid: uid || undefined, groups, extra };
}

function execExtension(extensions: unknown): unknown {
  if (!Array.isArray(extensions)) return undefined;
  for (const e of extensions) {
    if (e && typeof e === 'object' && (e as { name?: unknown }).name === 'client.authentication.k8s.io/exec') {
      return (e as { extension?: unknown }).extension;
    }
  }
  return undefined;
}

function stringField(v: unknown, where: string, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new KubeconfigError(where, `${field} must be a string`);
  return v;
}

function stringList(v: unknown, where: string, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new KubeconfigError(where, `${field} must be a list of strings`);
  return v as string[];
}

/** A PEM from a file or from base64 data; the data wins, as in client-go. */
function pemFrom(file: unknown, data: unknown, where: string, field: string): Buffer | undefined {
  const d = stringField(data, where, `${field}-data`);
  if (d) {
    const pem = Buffer.from(d, 'base64');
    if (!pem.includes('-----BEGIN')) throw new KubeconfigError(where, `${field}-data is not base64 of a PEM`);
    return pem;
  }
  const f = stringField(file, where, field);
  if (!f) return undefined;
  const pem = Buffer.from(readText(f, where, field));
  if (!pem.includes('-----BEGIN')) throw new KubeconfigError(where, `${field} ${f}: not a PEM file`);
  return pem;
}

function readText(file: string, where: string, field: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new KubeconfigError(where, `${field} ${file}: ${why}`);
  }
}
