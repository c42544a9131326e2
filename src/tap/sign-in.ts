/**
 * Getting a signed-in tap ready before it listens: the kubeconfig resolved
 * as kubectl would, the user's credentials loaded, and an exec plugin run
 * once, so that every problem (a file that does not parse, a missing
 * context, an unreadable certificate, a plugin that fails or hangs) is one
 * line and exit 2 before anything listens.
 */
import { resolveUpstream, type SelectOptions, type UpstreamTarget } from '../identity/kubeconfig-resolve.js';
import { UpstreamCredentials } from '../identity/upstream-credentials.js';
import { newLocalToken } from '../identity/local-access.js';
import { proxyFromEnvironment } from '../identity/proxy-env.js';
import type { UpstreamAddress } from './addresses.js';
import type { TapRunOptions } from './run-tap.js';

export interface SignInSetup {
  upstream: UpstreamAddress;
  upstreamCa?: Buffer;
  insecure: boolean;
  servername?: string;
  signIn: NonNullable<TapRunOptions['signIn']>;
  target: UpstreamTarget;
}

export interface SignInOptions extends SelectOptions {
  kubeconfigOut?: string;
  execTimeoutMs?: number;
  /** Where HTTPS_PROXY, HTTP_PROXY and NO_PROXY are read when the cluster names no proxy-url (default: this process's). */
  env?: Readonly<Record<string, string | undefined>>;
}

export async function prepareSignIn(opts: SignInOptions): Promise<SignInSetup> {
  const target = resolveUpstream(opts);
  const credentials = new UpstreamCredentials(target, { timeoutMs: opts.execTimeoutMs });
  // Fail now rather than on kubectl's first request.
  await credentials.clientCertificate();
  await credentials.forRequest();
  const server = target.cluster.server;
  const protocol = server.protocol === 'https:' ? 'https' : 'http';
  return {
    upstream: {
      protocol,
      host: server.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: server.port ? Number(server.port) : protocol === 'https' ? 443 : 80,
    },
    upstreamCa: target.cluster.ca,
    insecure: target.cluster.insecure,
    servername: target.cluster.tlsServerName,
    target,
    signIn: {
      credentials,
      localToken: newLocalToken(),
      kubeconfigOut: opts.kubeconfigOut,
      contextName: target.contextName,
      namespace: target.namespace,
      // as client-go: the kubeconfig's proxy-url, else the environment's proxy for this server
      proxyUrl: target.cluster.proxyUrl ?? proxyFromEnvironment(opts.env ?? process.env, server),
    },
  };
}
