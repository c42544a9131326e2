/**
 * kubeconfig entries as written (client-go's clientcmd/api/v1 field names).
 * Values are whatever the YAML held: resolution checks their types.
 */
export interface RawCluster {
  server?: unknown;
  'certificate-authority'?: unknown;
  'certificate-authority-data'?: unknown;
  'insecure-skip-tls-verify'?: unknown;
  'tls-server-name'?: unknown;
  'proxy-url'?: unknown;
  extensions?: unknown;
}

export interface RawExecConfig {
  apiVersion?: unknown;
  command?: unknown;
  args?: unknown;
  env?: unknown;
  interactiveMode?: unknown;
  provideClusterInfo?: unknown;
  installHint?: unknown;
}

export interface RawUser {
  'client-certificate'?: unknown;
  'client-certificate-data'?: unknown;
  'client-key'?: unknown;
  'client-key-data'?: unknown;
  token?: unknown;
  tokenFile?: unknown;
  as?: unknown;
  'as-uid'?: unknown;
  'as-groups'?: unknown;
  'as-user-extra'?: unknown;
  username?: unknown;
  password?: unknown;
  'auth-provider'?: unknown;
  exec?: RawExecConfig;
}

export interface RawContext {
  cluster?: unknown;
  user?: unknown;
  namespace?: unknown;
}
