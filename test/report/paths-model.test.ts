/**
 * The report's paths (html-collect's reportPath): hops put on one axis with
 * the estimated clock offsets. Both hops of a real kubectl 1.33 exec
 * through a real kube-apiserver, decoded as two files; with the kubelet
 * hop's clock a second ahead, its times on the path's axis are those of one
 * clock, within the offset's uncertainty.
 */
import { describe, expect, it } from 'vitest';
import { reportPath } from '../../src/cli/output/html-collect.js';
import { linkPaths } from '../../src/paths/index.js';
import { sharedDir } from '../helpers/shared-captures.js';
import { decodeForPaths } from '../paths/helpers.js';

const dir = sharedDir('real-apiserver');
if (!dir) console.warn('skipping the report paths model test: no shared/real-apiserver beside the checkout');

function linked(shiftUs: number) {
  const api = decodeForPaths(`${dir}/kubectl-1.33.exec-cat.api-hop.pcapng`, { file: 'api.pcapng' });
  const kubelet = decodeForPaths(`${dir}/kubectl-1.33.exec-cat.kubelet-hop.pcapng`, { file: 'kubelet.pcapng', shiftUs });
  return linkPaths([...api.inputs, ...kubelet.inputs.map((x) => (shiftUs ? x : { ...x, clock: 'api.pcapng' }))]);
}

describe.skipIf(!dir)('the report\'s paths', () => {
  it('hops on one axis: zero at the first request, times of another clock corrected by its offset', () => {
    const same = linked(0);
    const shifted = linked(1_000_000);
    const a = reportPath(same.paths[0]!, new Map());
    const b = reportPath(shifted.paths[0]!, new Map());
    expect(a.hops.map((h) => h.hop)).toEqual(['client-apiserver', 'apiserver-kubelet']);
    expect(Math.min(...a.hops.map((h) => h.requestUs ?? h.startUs))).toBe(0);
    // kubectl's request comes first; the API server's request to the kubelet after it, the 101 after the request
    expect(a.hops[0]!.requestUs).toBe(0);
    expect(a.hops[1]!.requestUs!).toBeGreaterThan(0);
    expect(a.hops[1]!.upgradeUs! - a.hops[1]!.requestUs!).toBe(a.hops[1]!.setupUs);
    const off = shifted.clockOffsets.find((c) => c.file === 'kubelet.pcapng')!;
    expect(b.hops[1]!.clockOffsetUs).toBe(off.offsetUs);
    for (const k of ['startUs', 'requestUs', 'upgradeUs', 'endUs'] as const) {
      expect(Math.abs(b.hops[1]![k]! - a.hops[1]![k]!)).toBeLessThanOrEqual(off.uncertaintyUs!);
    }
    expect(Math.abs(b.hops[1]!.exit!.timeUs! - a.hops[1]!.exit!.timeUs!)).toBeLessThanOrEqual(off.uncertaintyUs!);
    // without a session in the report, no lanes and no session to open
    expect(b.hops.every((h) => h.session === null && Object.keys(h.lanes).length === 0)).toBe(true);
  });
});
