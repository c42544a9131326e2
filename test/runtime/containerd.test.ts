/**
 * Fresh captures of a real container runtime: runs the runtime fixture
 * script into a temporary folder (its own containerd, a Go spdystream
 * client) and decodes what it recorded. Skips with the script's reason where
 * containerd cannot run (not root, packages missing, no containers here).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FixtureTruth } from '../helpers/fixture-truths.js';
import { decodeBytes, truthProblems } from '../robustness/harness.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

describe('a real containerd streaming server, recorded now', () => {
  it('exec with 256 KiB of stdin, a TTY with resizes and a port-forward decode exactly, with no diagnostics', (ctx) => {
    const out = mkdtempSync(join(tmpdir(), 'kubewire-runtime-test-'));
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'make-runtime-fixtures.ts'), out], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
      const skip = /skipping the runtime fixtures: (.*)/.exec(r.stdout);
      if (skip) {
        console.warn(`skipping the containerd test: ${skip[1]}`);
        ctx.skip();
      }
      expect(r.status, r.stderr).toBe(0);
      const truths = readdirSync(out).filter((f) => f.endsWith('.truth.json'));
      expect(truths.sort()).toEqual(['containerd-exec-stdin-256k.truth.json', 'containerd-exec-tty-resize.truth.json', 'containerd-portforward.truth.json']);
      for (const f of truths) {
        const truth = JSON.parse(readFileSync(join(out, f), 'utf8')) as FixtureTruth;
        const d = decodeBytes(readFileSync(join(out, `${truth.name}.pcap`)), { keepBytes: false });
        expect(d.diagnostics, truth.name).toEqual([]);
        expect(truthProblems(d.summary.sessions, truth), truth.name).toEqual([]);
        const s = d.summary.sessions[0]!;
        expect(s.hop, truth.name).toBe('kubelet-runtime');
        // spdystream on both sides: overruns are facts, never violations
        if (s.flowControlOverruns > 0) expect(s.flowControl, truth.name).toMatchObject({ clientToServer: { violations: 0 }, serverToClient: { violations: 0 } });
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 300_000);
});
