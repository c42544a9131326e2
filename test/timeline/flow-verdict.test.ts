/**
 * Flow-control overruns say what they mean (issue 16, part 2): a sender that
 * shows no flow control at all (Kubernetes' spdystream) is said once, never
 * flagged; an overrun from a sender that does flow control is a violation,
 * naming the side that broke the rule.
 */
import { describe, expect, it } from 'vitest';
import { Chalk } from 'chalk';
import { SpdyFrameEncoder } from '../../src/spdy/index.js';
import type { FlowControlEvent } from '../../src/timeline/index.js';
import { formatTimelineEvent } from '../../src/cli/output/timeline.js';
import { C, S, decode, enc, script, type Step } from './helpers.js';

const CHUNK = new Uint8Array(16384);
const plain = new Chalk({ level: 0 });

function exec(): { c: SpdyFrameEncoder; s: SpdyFrameEncoder; steps: Step[] } {
  const c = new SpdyFrameEncoder();
  const s = new SpdyFrameEncoder();
  return {
    c,
    s,
    steps: [
      { d: C, bytes: enc('POST /exec/tok HTTP/1.1\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n') },
      { d: S, bytes: enc('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n') },
      { d: C, bytes: c.encode({ kind: 'syn_stream', streamId: 1, headers: [['streamtype', 'error']] }) },
      { d: C, bytes: c.encode({ kind: 'syn_stream', streamId: 3, headers: [['streamtype', 'stdin']] }) },
      { d: C, bytes: c.encode({ kind: 'syn_stream', streamId: 5, headers: [['streamtype', 'stdout']] }) },
    ],
  };
}

const flowEvents = (events: ReturnType<typeof decode>['events']) => events.filter((e): e is FlowControlEvent => e.kind === 'flow-control');

describe('flow control: who does it, and who broke it', () => {
  it('spdystream both ways (no WINDOW_UPDATE, 128 KiB each way): "not used" once per side, overruns counted, no violation', () => {
    const { c, s, steps } = exec();
    for (let i = 0; i < 8; i++) steps.push({ d: C, bytes: c.encode({ kind: 'data', streamId: 3, data: CHUNK }) });
    for (let i = 0; i < 8; i++) steps.push({ d: S, bytes: s.encode({ kind: 'data', streamId: 5, data: CHUNK }) });
    const { decoder, events } = decode(script(steps));
    const fc = flowEvents(events);
    expect(fc.filter((e) => e.state === 'not-used').map((e) => e.direction)).toEqual([C, S]);
    expect(fc.filter((e) => e.state === 'overrun').every((e) => !e.violation)).toBe(true);
    const sum = decoder.summary().sessions[0]!;
    expect(sum.flowControlOverruns).toBe(4);
    expect(sum.flowControl).toEqual({
      clientToServer: { senderRespectsWindows: 'no', receiverWindowUpdates: 0, stalls: 0, overruns: 2, violations: 0 },
      serverToClient: { senderRespectsWindows: 'no', receiverWindowUpdates: 0, stalls: 0, overruns: 2, violations: 0 },
      client: 'no',
      server: 'no',
    });
    const notUsed = fc.find((e) => e.state === 'not-used')!;
    expect(formatTimelineEvent(notUsed, plain)).toContain('flow control not used by the client');
  });

  it('a sender that sent WINDOW_UPDATEs and then goes past its window broke the rule: a violation named for it', () => {
    const { c, s, steps } = exec();
    // the client shows it does flow control: it opens the server's windows
    steps.push({ d: C, bytes: c.encode({ kind: 'window_update', streamId: 5, delta: 1024 }) });
    steps.push({ d: S, bytes: s.encode({ kind: 'data', streamId: 5, data: enc('x') }) });
    for (let i = 0; i < 5; i++) steps.push({ d: C, bytes: c.encode({ kind: 'data', streamId: 3, data: CHUNK }) });
    const { decoder, events } = decode(script(steps));
    const fc = flowEvents(events);
    expect(fc.some((e) => e.state === 'not-used')).toBe(false);
    const overruns = fc.filter((e) => e.state === 'overrun');
    expect(overruns.length).toBeGreaterThan(0);
    expect(overruns.every((e) => e.violation && e.direction === C)).toBe(true);
    expect(formatTimelineEvent(overruns[0]!, plain)).toContain('flow control broken by the client');
    const sum = decoder.summary().sessions[0]!;
    expect(sum.flowControl).toMatchObject({ client: 'yes', clientToServer: { senderRespectsWindows: 'no', overruns: 2, violations: 2 }, serverToClient: { receiverWindowUpdates: 1 } });
  });

  it('a sender that announced a window size in SETTINGS does flow control: its overrun is a violation', () => {
    const { c, steps } = exec();
    steps.push({ d: C, bytes: c.encode({ kind: 'settings', entries: [{ id: 7, flags: 0, value: 65536 }] }) });
    for (let i = 0; i < 5; i++) steps.push({ d: C, bytes: c.encode({ kind: 'data', streamId: 3, data: CHUNK }) });
    const { decoder, events } = decode(script(steps));
    expect(flowEvents(events).filter((e) => e.state === 'overrun').every((e) => e.violation)).toBe(true);
    expect(decoder.summary().sessions[0]!.flowControl).toMatchObject({ client: 'yes', clientToServer: { violations: 2 } });
  });

  it('a sender that once waited at a used-up window and later goes past one broke the rule', () => {
    const { c, s, steps } = exec();
    for (let i = 0; i < 4; i++) steps.push({ d: S, bytes: s.encode({ kind: 'data', streamId: 5, data: CHUNK }) });
    steps.push({ d: C, bytes: c.encode({ kind: 'window_update', streamId: 5, delta: 16384 }) });
    steps.push({ d: C, bytes: c.encode({ kind: 'window_update', streamId: 0, delta: 16384 }) });
    for (let i = 0; i < 3; i++) steps.push({ d: S, bytes: s.encode({ kind: 'data', streamId: 5, data: CHUNK }) });
    const { decoder, events } = decode(script(steps));
    const fc = flowEvents(events);
    expect(fc.filter((e) => e.state === 'resumed')).toHaveLength(2);
    expect(fc.filter((e) => e.state === 'overrun').every((e) => e.violation && e.direction === S)).toBe(true);
    const sum = decoder.summary().sessions[0]!;
    expect(sum.flowControlStalls).toBe(2);
    expect(sum.flowControl).toMatchObject({ server: 'yes', client: 'yes', serverToClient: { stalls: 2, receiverWindowUpdates: 2 } });
    expect(sum.flowControl!.serverToClient.violations).toBeGreaterThan(0);
  });

  it('a sender that keeps to the window (it waits at 0) respects windows; the stall stays shown', () => {
    const { s, steps } = exec();
    for (let i = 0; i < 4; i++) steps.push({ d: S, bytes: s.encode({ kind: 'data', streamId: 5, data: CHUNK }) });
    const { decoder, events } = decode(script(steps));
    expect(flowEvents(events).map((e) => e.state)).toEqual(['exhausted', 'exhausted']);
    const sum = decoder.summary().sessions[0]!;
    expect(sum.flowControlStalls).toBe(2);
    expect(sum.flowControl).toMatchObject({ serverToClient: { senderRespectsWindows: 'yes', overruns: 0 }, server: 'unknown' });
  });
});
