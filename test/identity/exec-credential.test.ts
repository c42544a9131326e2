/**
 * Exec credential plugins, run for real (a shell script standing in for
 * kubelogin or aws): what the plugin is told, caching until the expiry it
 * gives, a new run after the server's 401, and every way a plugin can fail.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExecCredentialError, ExecCredentialSource } from '../../src/identity/index.js';
import type { ExecConfig } from '../../src/identity/exec-config.js';
import type { UpstreamCluster } from '../../src/identity/kubeconfig-resolve.js';

const CLUSTER: UpstreamCluster = {
  name: 'k',
  server: new URL('https://api.example:6443'),
  ca: Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'),
  insecure: false,
  tlsServerName: 'api.internal',
  execExtension: { audience: 'kubewire-test' },
};

/** A plugin that counts its runs, records its environment, and answers with a token valid for `ttl` seconds. */
function plugin(body: string): { dir: string; command: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kubewire-exec-plugin-'));
  const command = join(dir, 'plugin.sh');
  writeFileSync(command, `#!/bin/sh\nDIR='${dir}'\n${body}\n`);
  chmodSync(command, 0o755);
  return { dir, command };
}

const COUNTING = `
n=$(cat "$DIR/runs" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$DIR/runs"
printf '%s' "$KUBERNETES_EXEC_INFO" > "$DIR/info.json"
printf '%s' "$EXTRA" > "$DIR/extra"
exp=$(date -u -d "+$TTL seconds" +%Y-%m-%dT%H:%M:%SZ)
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"tok-%s","expirationTimestamp":"%s"}}' "$n" "$exp"
`;

function config(command: string, extra: Partial<ExecConfig> = {}): ExecConfig {
  return {
    apiVersion: 'client.authentication.k8s.io/v1',
    command,
    args: [],
    env: [['EXTRA', 'from-kubeconfig'], ['TTL', '3600']],
    interactiveMode: 'Never',
    provideClusterInfo: true,
    ...extra,
  };
}

describe('exec credential plugins', () => {
  it('tells the plugin what client-go tells it, and caches its answer; concurrent requests share one run', async () => {
    const p = plugin(COUNTING);
    const src = new ExecCredentialSource({ userName: 'u', config: config(p.command), cluster: CLUSTER, terminal: false, stderr: 'ignore' });
    const got = await Promise.all([src.get(), src.get(), src.get()]);
    expect(got.map((c) => c.token)).toEqual(['tok-1', 'tok-1', 'tok-1']);
    expect((await src.get()).token).toBe('tok-1');
    expect(src.runs).toBe(1);
    expect(readFileSync(join(p.dir, 'extra'), 'utf8')).toBe('from-kubeconfig');
    const info = JSON.parse(readFileSync(join(p.dir, 'info.json'), 'utf8'));
    expect(info).toEqual({
      kind: 'ExecCredential',
      apiVersion: 'client.authentication.k8s.io/v1',
      spec: {
        interactive: false,
        cluster: {
          server: 'https://api.example:6443',
          'tls-server-name': 'api.internal',
          'certificate-authority-data': CLUSTER.ca!.toString('base64'),
          config: { audience: 'kubewire-test' },
        },
      },
    });
  });

  it('runs again once the credential has expired', async () => {
    const p = plugin(COUNTING);
    let now = Date.now();
    const src = new ExecCredentialSource({ userName: 'u', config: config(p.command), cluster: CLUSTER, terminal: false, stderr: 'ignore', now: () => now });
    expect((await src.get()).token).toBe('tok-1');
    now += 30 * 60_000;
    expect((await src.get()).token).toBe('tok-1');
    now += 31 * 60_000;
    expect((await src.get()).token).toBe('tok-2');
    expect(src.runs).toBe(2);
  });

  it('runs again after the server rejected the credential, but not for a stale rejection', async () => {
    const p = plugin(COUNTING);
    const src = new ExecCredentialSource({ userName: 'u', config: config(p.command), cluster: CLUSTER, terminal: false, stderr: 'ignore' });
    const first = await src.get();
    src.rejected(first);
    const second = await src.get();
    expect(second.token).toBe('tok-2');
    // A late 401 for the first credential must not throw away the second.
    src.rejected(first);
    expect((await src.get()).token).toBe('tok-2');
    expect(src.runs).toBe(2);
  });

  it('without provideClusterInfo the plugin gets no cluster', async () => {
    const p = plugin(COUNTING);
    const src = new ExecCredentialSource({ userName: 'u', config: config(p.command, { provideClusterInfo: false }), cluster: CLUSTER, terminal: false });
    await src.get();
    expect(JSON.parse(readFileSync(join(p.dir, 'info.json'), 'utf8')).spec).toEqual({ interactive: false });
  });

  const failures: Array<{ label: string; body: string; extra?: Partial<ExecConfig>; message: RegExp; timeoutMs?: number; terminal?: boolean }> = [
    { label: 'a plugin that exits non-zero', body: 'echo "token expired, run login" >&2; exit 3', message: /user "u": exec credential plugin .*plugin\.sh exited with code 3/ },
    { label: 'a plugin that hangs', body: 'sleep 30', message: /did not answer within 1 s/, timeoutMs: 1000 },
    { label: 'a plugin that prints no JSON', body: 'echo hello', message: /not JSON/ },
    {
      label: 'a plugin answering another apiVersion',
      body: `printf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t"}}'`,
      message: /apiVersion "client.authentication.k8s.io\/v1beta1", the kubeconfig asked for client.authentication.k8s.io\/v1/,
    },
    {
      label: 'a plugin giving nothing usable',
      body: `printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}}'`,
      message: /neither a token nor a client certificate/,
    },
    {
      label: 'interactiveMode Always without a terminal',
      body: 'exit 0',
      extra: { interactiveMode: 'Always' },
      terminal: false,
      message: /needs a terminal/,
    },
  ];
  for (const f of failures) {
    it(f.label, async () => {
      const p = plugin(f.body);
      const src = new ExecCredentialSource({
        userName: 'u',
        config: config(p.command, f.extra),
        cluster: CLUSTER,
        terminal: f.terminal ?? false,
        stderr: 'ignore',
        timeoutMs: f.timeoutMs,
      });
      const started = Date.now();
      const err = await src.get().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ExecCredentialError);
      expect((err as Error).message).toMatch(f.message);
      expect((err as Error).message).not.toContain('\n');
      expect(Date.now() - started).toBeLessThan(10_000);
    });
  }

  it('a plugin that is not there names the command and the kubeconfig installHint', async () => {
    const src = new ExecCredentialSource({
      userName: 'u',
      config: config('/nonexistent/kubewire-plugin', { installHint: 'install it with: apt-get install nothing' }),
      cluster: CLUSTER,
      terminal: false,
    });
    await expect(src.get()).rejects.toThrow(/kubewire-plugin could not start: not found \(install it with: apt-get install nothing\)/);
  });
});
