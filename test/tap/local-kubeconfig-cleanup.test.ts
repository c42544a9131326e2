/**
 * The kubeconfig a signed-in tap writes carries a token for that tap alone:
 * once the tap stops, nothing of it stays in the temp dir (each run used to
 * leave a folder with a kubeconfig behind). A path the user named with
 * `--kubeconfig-out` is theirs and stays.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLocalKubeconfig } from '../../src/identity/local-access.js';
import { opensslMissing } from '../helpers/pki.js';
import { CLI, baseEnv, startUpstream, type Upstream } from './signed-in-harness.js';

describe('writeLocalKubeconfig', () => {
  it('writes into a fresh 0700 folder that remove() takes away', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'kubewire-cleanup-unit-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      const f = writeLocalKubeconfig('kind: Config\n');
      expect(dirname(dirname(f.path))).toBe(tmp);
      expect(statSync(dirname(f.path)).mode & 0o777).toBe(0o700);
      expect(statSync(f.path).mode & 0o777).toBe(0o600);
      expect(readFileSync(f.path, 'utf8')).toBe('kind: Config\n');
      f.remove();
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });

  it('leaves a path the user named where it is', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubewire-cleanup-named-'));
    const f = writeLocalKubeconfig('kind: Config\n', join(dir, 'sub', 'tap.yaml'));
    f.remove();
    expect(readFileSync(join(dir, 'sub', 'tap.yaml'), 'utf8')).toBe('kind: Config\n');
  });
});

let upstream: Upstream;
const missing = opensslMissing();
if (missing) console.warn(`skipping the tap's kubeconfig clean-up: ${missing}`);
beforeAll(async () => {
  if (!missing) upstream = await startUpstream();
});
afterAll(async () => {
  await upstream?.close();
});

function runTapCli(args: string[], env: Record<string, string>, onStderr?: (text: string, child: ReturnType<typeof spawn>) => void) {
  return new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [CLI, 'tap', '--kubeconfig', upstream.kubeconfigs.token, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr, child);
    });
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

(missing ? describe.skip : describe)("a signed-in tap's own kubeconfig", () => {
  it('with a COMMAND: there while the command runs, gone from the temp dir when the tap exits', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'kubewire-cleanup-wrap-'));
    const seen = join(mkdtempSync(join(tmpdir(), 'kubewire-cleanup-seen-')), 'path');
    const r = await runTapCli(['--', 'sh', '-c', `test -s "$KUBECONFIG" && echo "$KUBECONFIG" > '${seen}'`], baseEnv({ TMPDIR: tmp }));
    expect(r.code).toBe(0);
    const path = readFileSync(seen, 'utf8').trim();
    expect(dirname(dirname(path))).toBe(tmp);
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('for another shell: gone after SIGINT', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'kubewire-cleanup-shell-'));
    let path = '';
    let existedWhileListening = false;
    const r = await runTapCli(['--summary'], baseEnv({ TMPDIR: tmp }), (text, child) => {
      const m = /^export KUBECONFIG=(\S+)$/m.exec(text);
      if (m && !path) {
        path = m[1]!;
        existedWhileListening = existsSync(path);
        child.kill('SIGINT');
      }
    });
    expect(r.code).toBe(0);
    expect(existedWhileListening).toBe(true);
    expect(dirname(dirname(path))).toBe(tmp);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('--kubeconfig-out FILE stays after the tap exits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubewire-cleanup-out-'));
    const out = join(dir, 'tap.yaml');
    const r = await runTapCli(['--kubeconfig-out', out, '--', 'sh', '-c', 'test -s "$KUBECONFIG"'], baseEnv());
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/kind: Config/);
  });
});
