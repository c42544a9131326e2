/** The kubeconfig a user needs to point kubectl at `kubewire serve`. */

export interface KubeconfigOptions {
  server: string;
  token?: string;
  /** A YAML comment on an empty user: what the user must add. */
  userNote?: string;
  /** PEM of the certificate to trust (TLS). */
  caPem?: Buffer;
  namespace?: string;
}

export function kubeconfigYaml(opts: KubeconfigOptions): string {
  const cluster = [`    server: ${opts.server}`];
  if (opts.caPem) cluster.push(`    certificate-authority-data: ${opts.caPem.toString('base64')}`);
  const user = opts.token ? [`    token: ${opts.token}`] : [`    {}${opts.userNote ? ` # ${opts.userNote}` : ''}`];
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: kubewire',
    '  cluster:',
    ...cluster,
    'users:',
    '- name: kubewire',
    '  user:',
    ...user,
    'contexts:',
    '- name: kubewire',
    '  context:',
    '    cluster: kubewire',
    '    user: kubewire',
    `    namespace: ${opts.namespace ?? 'default'}`,
    'current-context: kubewire',
    '',
  ].join('\n');
}
