/** The `kubewire serve` command itself: prints a kubeconfig that kubectl can use, refuses unsafe listening, stops on SIGTERM. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubectlBinary, kubectlMissing, runKubectl } from '../helpers/kubectl.js';

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');

function kubewire(args: string[]) {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: join(import.meta.dirname, '../..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function finish(child: ReturnType<typeof kubewire>): Promise<{ code: number; err: string }> {
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.resume();
  const [code] = (await once(child, 'close')) as [number];
  return { code, err };
}

describe('kubewire serve (command line)', () => {
  it('refuses --listen beyond loopback without --token, --token-file or --client-ca (exit 2)', async () => {
    const { code, err } = await finish(kubewire(['serve', '--listen', '0.0.0.0:0']));
    expect(code).toBe(2);
    expect(err).toContain('--listen 0.0.0.0:0 is beyond loopback: --token, --token-file or --client-ca is required');
  });

  it('a bad --token-file is one line naming the file and the line (exit 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubewire-cli-'));
    const file = join(dir, 'tokens.csv');
    writeFileSync(file, 'good-token,alice,1\n\nshort,bob\n');
    const { code, err } = await finish(kubewire(['serve', '--listen', '127.0.0.1:0', '--token-file', file]));
    expect(code).toBe(2);
    expect(err).toBe(`kubewire: --token-file ${file} line 3: need at least 3 columns (token, user name, uid), found 2\n`);
    expect(err).not.toContain('good-token');
  });

  it('an unreadable --token-file or a --client-ca without a certificate is named (exit 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubewire-cli-'));
    const missingFile = join(dir, 'nope.csv');
    const r1 = await finish(kubewire(['serve', '--listen', '127.0.0.1:0', '--token-file', missingFile]));
    expect(r1.code).toBe(2);
    expect(r1.err).toBe(`kubewire: --token-file ${missingFile}: cannot read (ENOENT)\n`);
    const notPem = join(dir, 'ca.crt');
    writeFileSync(notPem, 'not a certificate\n');
    const r2 = await finish(kubewire(['serve', '--listen', '127.0.0.1:0', '--client-ca', notPem]));
    expect(r2.code).toBe(2);
    expect(r2.err).toBe(`kubewire: --client-ca ${notPem}: no PEM certificate (-----BEGIN CERTIFICATE-----) found\n`);
  });

  const missing = kubectlMissing('1.33');
  if (missing) console.warn(`skipping: ${missing}`);
  it.skipIf(!!missing)('prints a kubeconfig kubectl can use, and stops on SIGTERM', async () => {
    const child = kubewire(['serve', '--listen', '127.0.0.1:0', '--echo']);
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no kubeconfig; stderr: ${err}`)), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('current-context: kubewire\n')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    expect(err).toContain('loopback only');
    expect(err).toContain('echo');
    const config = join(mkdtempSync(join(tmpdir(), 'kubewire-cli-')), 'config');
    writeFileSync(config, out);
    const r = await runKubectl(kubectlBinary('1.33')!, ['exec', '-i', 'web', '--', 'whatever'], {
      kubeconfig: config,
      stdin: 'from the cli\n',
    });
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('from the cli\n');
    expect(err).toContain('/exec?');
    child.kill('SIGTERM');
    const [code] = (await once(child, 'close')) as [number];
    expect(code).toBe(0);
  });
});
