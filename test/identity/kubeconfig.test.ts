/**
 * kubeconfig resolution against real kubectl: for the same files, `$KUBECONFIG`
 * and flags, the context, cluster, server, user, namespace, token and
 * impersonation we pick equal what `kubectl config view --minify --raw`
 * says kubectl would use. Then the rules kubectl shows no view of (paths
 * relative to their file) and every bad input, each one line naming where.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KubeconfigError, resolveUpstream, type SelectOptions } from '../../src/identity/index.js';
import { kubectlBinary, kubectlMissing } from '../helpers/kubectl.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function files(spec: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubewire-kc-resolve-'));
  for (const [name, text] of Object.entries(spec)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const FIRST = `apiVersion: v1
kind: Config
clusters:
- name: shared
  cluster: {server: "https://first.example:6443"}
users:
- name: shared
  user:
    token: first-token
    as: alice
    as-groups: [devs, ops]
    as-uid: "1001"
contexts:
- name: shared
  context: {cluster: shared, user: shared, namespace: first-ns}
`;

const SECOND = `apiVersion: v1
kind: Config
current-context: other
clusters:
- name: shared
  cluster: {server: "https://second.example:6443"}
- name: other
  cluster: {server: "https://other.example", tls-server-name: api.internal, insecure-skip-tls-verify: true}
users:
- name: shared
  user: {token: second-token}
- name: other
  user: {token: other-token}
contexts:
- name: shared
  context: {cluster: other, user: other}
- name: other
  context: {cluster: other, user: other, namespace: other-ns}
`;

interface KubectlView {
  'current-context': string;
  clusters: Array<{ name: string; cluster: { server: string; 'tls-server-name'?: string } }>;
  users: Array<{ name: string; user: { token?: string; as?: string; 'as-groups'?: string[]; 'as-uid'?: string } }>;
  contexts: Array<{ name: string; context: { namespace?: string } }>;
}

function kubectlView(env: Record<string, string>, flags: string[]): KubectlView {
  const out = execFileSync(kubectlBinary('1.33')!, ['config', 'view', '--minify', '--raw', '-o', 'json', ...flags], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: env.HOME ?? tmpdir(), ...env },
    encoding: 'utf8',
  });
  return JSON.parse(out) as KubectlView;
}

const missing = kubectlMissing('1.33');
if (missing) console.warn(`skipping kubeconfig resolution against kubectl: ${missing}`);

(missing ? describe.skip : describe)('kubeconfig resolution equals kubectl config view --minify', () => {
  const dir = files({ 'a/config': FIRST, 'b/config': SECOND });
  const list = [join(dir, 'nope'), join(dir, 'a/config'), '', join(dir, 'b/config'), join(dir, 'a/config')].join(':');
  const cases: Array<{ label: string; env: Record<string, string>; flags: string[]; sel: SelectOptions }> = [
    { label: 'merged $KUBECONFIG: current-context from the first file that sets it', env: { KUBECONFIG: list }, flags: [], sel: {} },
    {
      label: 'merged $KUBECONFIG, --context: the first file to name an entry wins it',
      env: { KUBECONFIG: list },
      flags: ['--context', 'shared'],
      sel: { context: 'shared' },
    },
    {
      label: '--kubeconfig alone ignores $KUBECONFIG',
      env: { KUBECONFIG: join(dir, 'a/config') },
      flags: ['--kubeconfig', join(dir, 'b/config')],
      sel: { kubeconfig: join(dir, 'b/config') },
    },
    { label: '~/.kube/config without $KUBECONFIG', env: { HOME: join(dir, 'home') }, flags: [], sel: { home: join(dir, 'home') } },
  ];
  mkdirSync(join(dir, 'home/.kube'), { recursive: true });
  writeFileSync(join(dir, 'home/.kube/config'), SECOND);

  for (const c of cases) {
    it(c.label, () => {
      const view = kubectlView(c.env, c.flags);
      const ours = resolveUpstream({ ...c.sel, env: c.env });
      expect(ours.contextName).toBe(view['current-context']);
      expect(ours.cluster.name).toBe(view.clusters[0]!.name);
      expect(ours.cluster.server.href.replace(/\/$/, '')).toBe(view.clusters[0]!.cluster.server);
      expect(ours.cluster.tlsServerName).toBe(view.clusters[0]!.cluster['tls-server-name']);
      expect(ours.user.name).toBe(view.users[0]!.name);
      expect(ours.user.token).toBe(view.users[0]!.user.token);
      expect(ours.user.impersonate?.user).toBe(view.users[0]!.user.as);
      expect(ours.user.impersonate?.groups ?? []).toEqual(view.users[0]!.user['as-groups'] ?? []);
      expect(ours.user.impersonate?.uid).toBe(view.users[0]!.user['as-uid']);
      expect(ours.namespace).toBe(view.contexts[0]!.context.namespace);
    });
  }
});

describe('kubeconfig rules kubectl shows no view of', () => {
  it('paths are relative to the file that names them; a plugin path too, a bare plugin name is left to PATH', () => {
    const dir = files({
      'conf/config': `clusters:
- name: c
  cluster: {server: "https://h:1", certificate-authority: pki/ca.pem}
users:
- name: u
  user: {client-certificate: pki/u.crt, client-key: ./pki/u.key}
- name: e
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: ./bin/creds, interactiveMode: Never}
- name: f
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: creds-on-path}
contexts:
- name: c
  context: {cluster: c, user: u}
- name: e
  context: {cluster: c, user: e}
- name: f
  context: {cluster: c, user: f}
current-context: c
`,
      'conf/pki/ca.pem': PEM,
      'conf/pki/u.crt': PEM,
      'conf/pki/u.key': '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n',
    });
    const kubeconfig = join(dir, 'conf/config');
    const t = resolveUpstream({ kubeconfig });
    expect(t.cluster.ca?.toString()).toBe(PEM);
    expect(t.user.cert?.toString()).toBe(PEM);
    expect(t.user.key?.toString()).toContain('PRIVATE KEY');
    expect(resolveUpstream({ kubeconfig, context: 'e' }).user.exec?.command).toBe(join(dir, 'conf/bin/creds'));
    const f = resolveUpstream({ kubeconfig, context: 'f' }).user.exec!;
    expect(f.command).toBe('creds-on-path');
    // v1beta1 defaults what v1 requires.
    expect(f.interactiveMode).toBe('IfAvailable');
  });

  it('--cluster, --user and --namespace override the context (config view shows the stored context, so no kubectl oracle)', () => {
    const dir = files({ 'a/config': FIRST, 'b/config': SECOND });
    const env = { KUBECONFIG: [join(dir, 'a/config'), join(dir, 'b/config')].join(':') };
    const t = resolveUpstream({ env, context: 'shared', cluster: 'other', user: 'other', namespace: 'flag-ns' });
    expect(t.cluster.server.host).toBe('other.example');
    expect(t.user.token).toBe('other-token');
    expect(t.namespace).toBe('flag-ns');
  });

  it('a server URL keeps its path prefix', () => {
    const dir = files({ config: 'clusters: [{name: c, cluster: {server: "https://rancher.example/k8s/clusters/c-1"}}]\ncontexts: [{name: c, context: {cluster: c}}]\ncurrent-context: c\n' });
    const t = resolveUpstream({ kubeconfig: join(dir, 'config') });
    expect(t.cluster.server.pathname).toBe('/k8s/clusters/c-1');
    expect(t.user.name).toBe('');
  });
});

describe('unusable kubeconfigs: one line naming the file and the entry', () => {
  const bad: Array<{ label: string; text: string; sel?: SelectOptions; message: RegExp }> = [
    { label: 'YAML that does not parse', text: 'clusters: [\n  - {name: c\n', message: /config: does not parse as YAML: .*line/ },
    { label: 'not a mapping', text: '- a\n- b\n', message: /config: is not a kubeconfig/ },
    { label: 'no current-context', text: 'clusters: []\n', message: /no current-context is set/ },
    { label: 'a missing context', text: 'current-context: gone\n', message: /context "gone" not found/ },
    {
      label: 'a missing cluster',
      text: 'contexts: [{name: c, context: {cluster: nowhere, user: u}}]\ncurrent-context: c\n',
      message: /context "c": cluster "nowhere" not found/,
    },
    {
      label: 'a missing user',
      text: 'clusters: [{name: k, cluster: {server: "https://h"}}]\ncontexts: [{name: c, context: {cluster: k, user: nobody}}]\ncurrent-context: c\n',
      message: /context "c": user "nobody" not found/,
    },
    {
      label: 'a missing client certificate file',
      text:
        'clusters: [{name: k, cluster: {server: "https://h"}}]\nusers: [{name: u, user: {client-certificate: gone.crt, client-key: gone.key}}]\n' +
        'contexts: [{name: c, context: {cluster: k, user: u}}]\ncurrent-context: c\n',
      message: /user "u": client-certificate .*gone\.crt: no such file/,
    },
    {
      label: 'a server that is not a URL',
      text: 'clusters: [{name: k, cluster: {server: "not a url"}}]\ncontexts: [{name: c, context: {cluster: k}}]\ncurrent-context: c\n',
      message: /cluster "k": server is not a URL/,
    },
    {
      label: 'a v1 exec plugin without interactiveMode',
      text:
        'clusters: [{name: k, cluster: {server: "https://h"}}]\nusers: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: x}}}]\n' +
        'contexts: [{name: c, context: {cluster: k, user: u}}]\ncurrent-context: c\n',
      message: /user "u": exec: interactiveMode must be set/,
    },
    {
      label: 'a legacy auth-provider',
      text:
        'clusters: [{name: k, cluster: {server: "https://h"}}]\nusers: [{name: u, user: {auth-provider: {name: gcp}}}]\n' +
        'contexts: [{name: c, context: {cluster: k, user: u}}]\ncurrent-context: c\n',
      message: /user "u": auth-provider "gcp" is not supported/,
    },
  ];
  for (const b of bad) {
    it(b.label, () => {
      const dir = files({ config: b.text });
      let caught: unknown;
      try {
        resolveUpstream({ kubeconfig: join(dir, 'config'), ...b.sel });
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(KubeconfigError);
      const message = (caught as Error).message;
      expect(message).toMatch(b.message);
      expect(message).not.toContain('\n');
    });
  }

  it('--kubeconfig naming a file that is not there', () => {
    expect(() => resolveUpstream({ kubeconfig: join(tmpdir(), 'kubewire-no-such-kubeconfig') })).toThrow(/kubewire-no-such-kubeconfig: no such file/);
  });
});
