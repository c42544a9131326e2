/**
 * What the tap prints so a user can point kubectl at it: a kubeconfig
 * cluster (with the tap's CA inline when it terminates TLS) and a context
 * that keeps the user's own credentials, which the tap forwards unchanged.
 */
export interface KubeconfigSnippetOptions {
  /** The tap's URL, `http(s)://host:port`. */
  server: string;
  /** PEM of the certificate (or its CA) the tap presents, for https. */
  caPem?: string;
  /** Name of the cluster and context entries. Default `kubewire-tap`. */
  name?: string;
  /** The kubeconfig user whose credentials to send through the tap. */
  user?: string;
}

export function kubeconfigSnippet(opts: KubeconfigSnippetOptions): string {
  const name = opts.name ?? 'kubewire-tap';
  const cluster = [`    server: ${opts.server}`];
  if (opts.caPem) cluster.push(`    certificate-authority-data: ${Buffer.from(opts.caPem).toString('base64')}`);
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${name}`,
    '  cluster:',
    ...cluster,
    'contexts:',
    `- name: ${name}`,
    '  context:',
    `    cluster: ${name}`,
    `    user: ${opts.user ?? 'YOUR-USER'}`,
    `current-context: ${name}`,
    '',
  ].join('\n');
}
