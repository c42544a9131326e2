/**
 * What the tap presents upstream, as the kubeconfig user: a client
 * certificate on the TLS connection (static, or from the exec plugin) and
 * per-request headers (a bearer token from the kubeconfig, its token file or
 * the plugin; basic auth; impersonation). The only place that holds the
 * user's secrets; nothing here is printed.
 */
import { readFileSync } from 'node:fs';
import type { HeaderList } from '../http/headers.js';
import { ExecCredentialSource, type ExecCredential, type ExecCredentialOptions } from './exec-credential.js';
import type { UpstreamTarget, UpstreamUser } from './kubeconfig-resolve.js';

export interface ClientCertificate {
  cert: Buffer;
  key: Buffer;
}

/** What one request was sent with, so that a 401 can drop exactly that. */
export interface RequestCredentials {
  headers: HeaderList;
  exec?: ExecCredential;
}

/** A token file is read again after this long (client-go: one minute). */
const TOKEN_FILE_TTL_MS = 60_000;

export class UpstreamCredentials {
  private readonly exec: ExecCredentialSource | undefined;
  private tokenFileCache: { token: string; read: number } | undefined;

  constructor(
    readonly target: UpstreamTarget,
    execOptions: Pick<ExecCredentialOptions, 'terminal' | 'timeoutMs' | 'stderr' | 'env'> = {},
  ) {
    const user = target.user;
    if (user.exec) this.exec = new ExecCredentialSource({ ...execOptions, userName: user.name, config: user.exec, cluster: target.cluster });
  }

  get user(): UpstreamUser {
    return this.target.user;
  }

  /** Times the exec plugin ran. */
  get execRuns(): number {
    return this.exec?.runs ?? 0;
  }

  /** For the TLS connection: the user's certificate, if it has one. */
  async clientCertificate(): Promise<ClientCertificate | undefined> {
    const u = this.target.user;
    if (u.cert && u.key) return { cert: u.cert, key: u.key };
    if (this.exec) {
      const c = await this.exec.get();
      if (c.cert && c.key) return { cert: c.cert, key: c.key };
    }
    return undefined;
  }

  /** Headers for one request, in the order client-go adds them. */
  async forRequest(): Promise<RequestCredentials> {
    const u = this.target.user;
    const headers: HeaderList = [];
    let exec: ExecCredential | undefined;
    const token = u.token ?? this.tokenFromFile();
    if (this.exec && !token) {
      exec = await this.exec.get();
      if (exec.token) headers.push(['Authorization', `Bearer ${exec.token}`]);
    } else if (token) {
      headers.push(['Authorization', `Bearer ${token}`]);
    } else if (u.basic) {
      headers.push(['Authorization', `Basic ${Buffer.from(`${u.basic.username}:${u.basic.password}`).toString('base64')}`]);
    }
    const imp = u.impersonate;
    if (imp) {
      if (imp.user) headers.push(['Impersonate-User', imp.user]);
      if (imp.uid) headers.push(['Impersonate-Uid', imp.uid]);
      for (const g of imp.groups) headers.push(['Impersonate-Group', g]);
      for (const [k, v] of imp.extra) headers.push([`Impersonate-Extra-${encodeURIComponent(k)}`, v]);
    }
    return { headers, exec };
  }

  /** The upstream answered 401 to a request sent with `used`. */
  rejected(used: RequestCredentials | undefined): void {
    this.tokenFileCache = undefined;
    if (this.exec) this.exec.rejected(used?.exec);
  }

  private tokenFromFile(): string | undefined {
    const file = this.target.user.tokenFile;
    if (!file) return undefined;
    const now = Date.now();
    if (!this.tokenFileCache || now - this.tokenFileCache.read > TOKEN_FILE_TTL_MS) {
      this.tokenFileCache = { token: readFileSync(file, 'utf8').trim(), read: now };
    }
    return this.tokenFileCache.token;
  }
}
