/**
 * The shared real captures (a real kube-apiserver's two hops, a real
 * containerd streaming server) decode with no diagnostic; the containerd one,
 * whose closing GOAWAY the server's RST cut after 2 bytes, shows that as
 * teardown and matches its truth byte for byte (issue 16).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeBytes, sha256 } from '../robustness/harness.js';
import { streamKey } from '../robustness/harness.js';
import { cliMissing, runCli } from '../cli/helpers.js';
import { sharedDir, sharedFiles } from '../helpers/shared-captures.js';

const runtime = sharedDir('real-runtime');
const captures = [...sharedFiles('real-apiserver', 'hop.pcapng'), ...sharedFiles('real-runtime', '.pcap')];
if (captures.length === 0) console.warn('skipping the shared real captures: no shared/real-apiserver or shared/real-runtime beside the checkout');

describe.skipIf(captures.length === 0)('shared real captures', () => {
  for (const file of captures) {
    it(`${basename(file)}: no diagnostics`, () => {
      const d = decodeBytes(readFileSync(file), { keepBytes: false });
      expect(d.threw).toBeNull();
      expect(d.diagnostics).toEqual([]);
      expect(d.summary.sessions.length).toBeGreaterThan(0);
    });
  }
});

interface RuntimeTruth {
  exit_code: number;
  stdin_sha256: string;
  stdout_sha256: string;
  stderr_sha256: string;
  error_stream: string;
  stdin_bytes: number;
  stdout_bytes: number;
  protocol: string;
  hop: string;
}

const execStdin = runtime ? `${runtime}/exec-stdin-4k.pcap` : null;
describe.skipIf(!execStdin)('containerd exec with 4 KiB of stdin (shared/real-runtime)', () => {
  it('matches its truth byte for byte, and the cut closing frame is teardown', () => {
    const truth = JSON.parse(readFileSync(`${runtime}/exec-stdin-4k.truth.json`, 'utf8')) as RuntimeTruth;
    const d = decodeBytes(readFileSync(execStdin!));
    expect(d.diagnostics).toEqual([]);
    const s = d.summary.sessions[0]!;
    expect(s).toMatchObject({ hop: truth.hop, protocol: truth.protocol, exit: { code: truth.exit_code }, tcpClose: 'rst' });
    expect(s.teardown).toMatchObject({ direction: 'clientToServer', layer: 'spdy', cutBy: 'rst' });
    const byRole = (r: string) => s.streams.find((x) => x.role === r)!;
    const bytes = (role: string, dir: 'clientToServer' | 'serverToClient') => d.streams.get(streamKey(s.session, byRole(role).id, dir)) ?? new Uint8Array(0);
    expect(bytes('stdin', 'clientToServer').length).toBe(truth.stdin_bytes);
    expect(sha256(bytes('stdin', 'clientToServer'))).toBe(truth.stdin_sha256);
    expect(sha256(bytes('stdout', 'serverToClient'))).toBe(truth.stdout_sha256);
    expect(sha256(bytes('stderr', 'serverToClient'))).toBe(truth.stderr_sha256);
    expect(Buffer.from(bytes('error', 'serverToClient')).toString('utf8')).toBe(truth.error_stream);
  });

  it.skipIf(cliMissing() !== null)('kubewire decode exits 0 and names the teardown in the timeline', async () => {
    const r = await runCli(['decode', execStdin!]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(/closing control frame cut by RST \(2 header bytes\): teardown/);
  });
});
