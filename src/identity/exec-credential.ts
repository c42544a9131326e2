/**
 * Runs a kubeconfig user's exec credential plugin as client-go does: the
 * plugin gets the user's environment plus the stanza's `env`, and
 * `KUBERNETES_EXEC_INFO` (the ExecCredential input: whether it may talk to
 * the user, and the cluster when `provideClusterInfo` is set); its stderr is
 * the user's; its stdin is the terminal only when it may be interactive. Its
 * answer is cached until `expirationTimestamp`, and dropped when the server
 * rejects it (401), so the next request runs the plugin again. Concurrent
 * requests share one run.
 */
import { spawn } from 'node:child_process';
import { ExecCredentialError } from './errors.js';
import type { ExecConfig } from './exec-config.js';
import type { UpstreamCluster } from './kubeconfig-resolve.js';

export interface ExecCredential {
  token?: string;
  /** PEM. */
  cert?: Buffer;
  key?: Buffer;
  /** ms since the epoch; undefined: until the server rejects it. */
  expires?: number;
}

export interface ExecCredentialOptions {
  userName: string;
  config: ExecConfig;
  cluster: UpstreamCluster;
  /** Whether a terminal is there for the plugin to talk to the user. Default: stdin is a TTY. */
  terminal?: boolean;
  /** Give up on a plugin that has not answered after this long. Default 60 s. */
  timeoutMs?: number;
  /** Where the plugin's stderr goes. Default: ours. */
  stderr?: 'inherit' | 'ignore';
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
/** Output larger than this is not a credential. */
const MAX_OUTPUT = 1024 * 1024;

export class ExecCredentialSource {
  private cached: ExecCredential | undefined;
  private running: Promise<ExecCredential> | undefined;
  /** How many times the plugin ran (for tests and the log). */
  runs = 0;

  constructor(private readonly opts: ExecCredentialOptions) {}

  async get(): Promise<ExecCredential> {
    const now = (this.opts.now ?? Date.now)();
    if (this.cached && (this.cached.expires === undefined || this.cached.expires > now)) return this.cached;
    this.cached = undefined;
    this.running ??= this.run().finally(() => (this.running = undefined));
    const got = await this.running;
    this.cached = got;
    return got;
  }

  /** The server rejected `used`: forget it (unless a newer one is already cached). */
  rejected(used: ExecCredential | undefined): void {
    if (!used || this.cached === used) this.cached = undefined;
  }

  private run(): Promise<ExecCredential> {
    const { config, userName } = this.opts;
    const terminal = this.opts.terminal ?? process.stdin.isTTY === true;
    const interactive = config.interactiveMode !== 'Never' && terminal;
    if (config.interactiveMode === 'Always' && !terminal) {
      return Promise.reject(new ExecCredentialError(userName, `${config.command} needs a terminal (interactiveMode: Always) and there is none`));
    }
    const env: NodeJS.ProcessEnv = { ...(this.opts.env ?? process.env) };
    for (const [k, v] of config.env) env[k] = v;
    env.KUBERNETES_EXEC_INFO = JSON.stringify(execInfo(config, this.opts.cluster, interactive));
    this.runs++;
    const timeoutMs = this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise<ExecCredential>((resolve, reject) => {
      const fail = (detail: string) => reject(new ExecCredentialError(userName, `${config.command} ${detail}`));
      let child;
      try {
        child = spawn(config.command, config.args, {
          env,
          stdio: [interactive ? 'inherit' : 'ignore', 'pipe', this.opts.stderr ?? 'inherit'],
          // Its own process group, so a hung plugin goes with everything it
          // started; an interactive one keeps the terminal's group instead.
          detached: !interactive,
        });
      } catch (e) {
        fail(`could not start: ${(e as Error).message}`);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        try {
          if (!interactive && child.pid) process.kill(-child.pid, 'SIGKILL');
          else child.kill('SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
        // A grandchild may still hold the pipe: stop waiting for it.
        child.stdout?.destroy();
        child.unref();
        fail(`did not answer within ${Math.round(timeoutMs / 1000)} s`);
      }, timeoutMs);
      child.stdout!.on('data', (d: Buffer) => {
        size += d.length;
        if (size <= MAX_OUTPUT) chunks.push(d);
      });
      child.on('error', (e: NodeJS.ErrnoException) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const hint = e.code === 'ENOENT' && config.installHint ? ` (${config.installHint.trim().split('\n')[0]})` : '';
        fail(`could not start: ${e.code === 'ENOENT' ? 'not found' : e.message}${hint}`);
      });
      child.on('close', (code, signal) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (code !== 0) {
          fail(signal ? `was killed by ${signal}` : `exited with code ${code}`);
          return;
        }
        try {
          resolve(parseExecCredential(Buffer.concat(chunks).toString('utf8'), config));
        } catch (e) {
          fail((e as Error).message);
        }
      });
    });
  }
}

/** The plugin's stdout: an ExecCredential of the stanza's apiVersion. */
export function parseExecCredential(text: string, config: ExecConfig): ExecCredential {
  let doc: {
    apiVersion?: unknown;
    kind?: unknown;
    status?: { token?: unknown; clientCertificateData?: unknown; clientKeyData?: unknown; expirationTimestamp?: unknown };
  };
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error('printed something that is not JSON (expected an ExecCredential)');
  }
  if (!doc || doc.kind !== 'ExecCredential') throw new Error('printed JSON that is not an ExecCredential');
  if (doc.apiVersion !== config.apiVersion) {
    throw new Error(`answered with apiVersion ${JSON.stringify(doc.apiVersion)}, the kubeconfig asked for ${config.apiVersion}`);
  }
  const s = doc.status;
  if (!s || typeof s !== 'object') throw new Error('printed an ExecCredential without status');
  const out: ExecCredential = {};
  if (typeof s.token === 'string' && s.token) out.token = s.token;
  const cert = typeof s.clientCertificateData === 'string' && s.clientCertificateData ? s.clientCertificateData : undefined;
  const key = typeof s.clientKeyData === 'string' && s.clientKeyData ? s.clientKeyData : undefined;
  if (!!cert !== !!key) throw new Error('gave clientCertificateData and clientKeyData only in part (both or neither)');
  if (cert && key) {
    out.cert = Buffer.from(cert);
    out.key = Buffer.from(key);
  }
  if (!out.token && !out.cert) throw new Error('gave neither a token nor a client certificate');
  if (s.expirationTimestamp !== undefined && s.expirationTimestamp !== null) {
    const t = typeof s.expirationTimestamp === 'string' ? Date.parse(s.expirationTimestamp) : NaN;
    if (Number.isNaN(t)) throw new Error(`gave an expirationTimestamp that is not a time: ${JSON.stringify(s.expirationTimestamp)}`);
    out.expires = t;
  }
  return out;
}

/** `KUBERNETES_EXEC_INFO`: what client-go tells a plugin. */
function execInfo(config: ExecConfig, cluster: UpstreamCluster, interactive: boolean): object {
  const spec: Record<string, unknown> = { interactive };
  if (config.provideClusterInfo) {
    const c: Record<string, unknown> = { server: cluster.server.href.replace(/\/$/, '') };
    if (cluster.tlsServerName) c['tls-server-name'] = cluster.tlsServerName;
    if (cluster.insecure) c['insecure-skip-tls-verify'] = true;
    if (cluster.ca) c['certificate-authority-data'] = cluster.ca.toString('base64');
    if (cluster.proxyUrl) c['proxy-url'] = cluster.proxyUrl.href;
    if (cluster.execExtension !== undefined) c.config = cluster.execExtension;
    spec.cluster = c;
  }
  return { kind: 'ExecCredential', apiVersion: config.apiVersion, spec };
}
