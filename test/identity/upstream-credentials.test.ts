/**
 * What the tap sends upstream for each kind of kubeconfig user: the headers
 * client-go would add (bearer token, token file, basic auth, impersonation)
 * and the client certificate for the TLS connection.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveUpstream, UpstreamCredentials } from '../../src/identity/index.js';

function kubeconfig(user: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubewire-creds-'));
  writeFileSync(join(dir, 'token'), 'from-the-file\n');
  writeFileSync(
    join(dir, 'config'),
    `clusters: [{name: k, cluster: {server: "https://h:6443"}}]\nusers: [{name: u, user: ${user}}]\ncontexts: [{name: c, context: {cluster: k, user: u}}]\ncurrent-context: c\n`,
  );
  return join(dir, 'config');
}

describe('upstream credentials', () => {
  it('a token and impersonation become the headers client-go sends', async () => {
    const t = resolveUpstream({
      kubeconfig: kubeconfig('{token: tok, as: alice, as-uid: "7", as-groups: [devs, ops], as-user-extra: {scopes.example.com/team: [blue, "green team"]}}'),
    });
    const c = new UpstreamCredentials(t);
    expect((await c.forRequest()).headers).toEqual([
      ['Authorization', 'Bearer tok'],
      ['Impersonate-User', 'alice'],
      ['Impersonate-Uid', '7'],
      ['Impersonate-Group', 'devs'],
      ['Impersonate-Group', 'ops'],
      ['Impersonate-Extra-scopes.example.com%2Fteam', 'blue'],
      ['Impersonate-Extra-scopes.example.com%2Fteam', 'green team'],
    ]);
    expect(await c.clientCertificate()).toBeUndefined();
  });

  it('a token file is read (trimmed), and read again after a 401', async () => {
    const path = kubeconfig('{tokenFile: token}');
    const c = new UpstreamCredentials(resolveUpstream({ kubeconfig: path }));
    const first = await c.forRequest();
    expect(first.headers).toEqual([['Authorization', 'Bearer from-the-file']]);
    writeFileSync(join(path, '..', 'token'), 'rotated');
    expect((await c.forRequest()).headers).toEqual([['Authorization', 'Bearer from-the-file']]);
    c.rejected(first);
    expect((await c.forRequest()).headers).toEqual([['Authorization', 'Bearer rotated']]);
  });

  it('basic auth', async () => {
    const c = new UpstreamCredentials(resolveUpstream({ kubeconfig: kubeconfig('{username: admin, password: "p:w"}') }));
    expect((await c.forRequest()).headers).toEqual([['Authorization', `Basic ${Buffer.from('admin:p:w').toString('base64')}`]]);
  });

  it('impersonation needs the user to impersonate', () => {
    expect(() => resolveUpstream({ kubeconfig: kubeconfig('{token: t, as-groups: [x]}') })).toThrow(/as-groups, as-uid and as-user-extra need as/);
  });
});
