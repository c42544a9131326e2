/** `--clock-offset FILE=±SECONDS`: exact decimal seconds, and which capture FILE names. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseClockOffsets, secondsToMicros } from '../../src/cli/clock-offsets.js';

describe('--clock-offset', () => {
  it('property: any whole number of µs written as decimal seconds reads back exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), fc.boolean(), fc.integer({ min: 0, max: 3 }), (us, plus, zeros) => {
        const abs = Math.abs(us);
        const text = `${us < 0 ? '-' : plus ? '+' : ''}${Math.floor(abs / 1e6)}.${String(abs % 1e6).padStart(6, '0')}${'0'.repeat(zeros)}`;
        expect(secondsToMicros(text)).toBe(us === 0 ? 0 : us);
      }),
    );
  });

  it('reads the forms people write, and refuses the rest', () => {
    expect(secondsToMicros('1.1')).toBe(1_100_000);
    expect(secondsToMicros('-0.25')).toBe(-250_000);
    expect(secondsToMicros('+3')).toBe(3_000_000);
    expect(secondsToMicros('.5')).toBe(500_000);
    expect(secondsToMicros('0.0000015')).toBe(1.5);
    for (const bad of ['', '+', '.', '1s', '1e3', '--1', '0x10', '1,5']) expect(secondsToMicros(bad), bad).toBeNull();
  });

  it('FILE is a capture as given or its basename; a name for none, for two, or given twice is an error', () => {
    const inputs = ['caps/api.pcapng', 'other/node.pcap', 'caps/api.pcapng'];
    expect(parseClockOffsets(['node.pcap=-0.5'], inputs)).toEqual([0, -500_000, 0]);
    expect(parseClockOffsets(['caps/api.pcapng=2'], inputs)).toEqual([2_000_000, 0, 2_000_000]);
    expect(parseClockOffsets(['api.pcapng=1', 'other/node.pcap=0.000001'], inputs)).toEqual([1_000_000, 1, 1_000_000]);
    expect(() => parseClockOffsets(['x.pcap=1'], inputs)).toThrow(/not one of the captures/);
    expect(() => parseClockOffsets(['a.pcap=1'], ['d1/a.pcap', 'd2/a.pcap'])).toThrow(/names more than one capture/);
    expect(() => parseClockOffsets(['node.pcap=1', 'other/node.pcap=2'], inputs)).toThrow(/two offsets for other\/node\.pcap/);
    expect(parseClockOffsets(['weird=name.pcap=1'], ['weird=name.pcap'])).toEqual([1_000_000]);
  });
});
