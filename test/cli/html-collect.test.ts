/** The HTML report's document: bounded whatever the capture's size, every byte and event accounted for. */
import { describe, expect, it } from 'vitest';
import { createFilter } from '../../src/cli/output/filter.js';
import { REPORT_LIMITS, ReportCollector } from '../../src/cli/output/html-collect.js';
import { DATA_PLACEHOLDER, fillTemplate } from '../../src/cli/output/html.js';
import type { DecodeSummary, SessionSummary, TimelineEvent } from '../../src/timeline/index.js';

const T0 = 1_700_000_000_000_000;
const s = { connection: 1, session: 1 };
const start: TimelineEvent = { kind: 'session-start', ...s, time: T0, sessionKind: 'exec', transport: 'spdy/3.1', protocol: 'v4.channel.k8s.io', application: 'kubernetes', hop: 'client-apiserver', nodeProxy: null, namespace: 'ns', pod: 'p', container: 'c', command: ['cat'], stdin: true, stdout: true, stderr: false, tty: false, inferred: false, retryOf: null };

function summaryOf(endTime: number): DecodeSummary {
  const session = { session: 1, startTime: T0, endTime, kind: 'exec', streams: [], diagnostics: 0, command: ['cat'] } as unknown as SessionSummary;
  return { sessions: [session], requests: [], connections: 1, diagnostics: 0, dropped: { connections: 0, sessions: 0, requests: 0 } };
}

describe('ReportCollector', () => {
  it('keeps at most marksPerLane data marks per direction, and they add up to every event and byte', () => {
    const c = new ReportCollector(createFilter({}));
    c.event(start);
    const N = 50_000;
    const SIZE = 1000;
    let offset = 0;
    for (let i = 0; i < N; i++) {
      c.event({ kind: 'stream-data', ...s, time: T0 + i * 10, direction: 'serverToClient', streamId: 3, role: 'stdout', bytes: new Uint8Array(SIZE).fill(i & 0xff), offset });
      offset += SIZE;
    }
    c.event({ kind: 'flow-control', ...s, time: T0 + 20, direction: 'serverToClient', streamId: 3, state: 'exhausted', window: 0, stalledUs: null, violation: false });
    c.event({ kind: 'flow-control', ...s, time: T0 + 120, direction: 'serverToClient', streamId: 3, state: 'resumed', window: 100, stalledUs: 100, violation: false });
    const r = c.finish(summaryOf(T0 + N * 10), 'kubewire test', 'x.pcap');
    const lane = r.sessions[0]!.lanes.find((l) => l.key === 'stream3')!;
    const data = lane.marks.filter((m) => m.k === 'data');
    expect(data.length).toBeLessThanOrEqual(REPORT_LIMITS.marksPerLane);
    expect(data.reduce((n, m) => n + (m.c ?? 1), 0)).toBe(N);
    expect(data.reduce((n, m) => n + m.n!, 0)).toBe(N * SIZE);
    // Offsets increase: each mark starts where the bytes before it end.
    let at = 0;
    for (const m of data) {
      expect(m.o).toBe(at);
      at += m.n!;
    }
    const kept = data.reduce((n, m) => n + (m.b ? Buffer.from(m.b, 'base64').length : 0), 0);
    expect(kept).toBeLessThanOrEqual(REPORT_LIMITS.bytesInAll);
    expect(r.sessions[0]!.omittedBytes).toBe(N * SIZE - kept);
    expect(r.sessions[0]!.dataEvents).toBe(N);
    // Kept bytes are the event's first bytes.
    const first = data[0]!;
    expect(Buffer.from(first.b!, 'base64').equals(Buffer.alloc(Math.min(SIZE, REPORT_LIMITS.bytesPerEvent), 0))).toBe(true);
    const stall = lane.marks.find((m) => m.k === 'stall')!;
    expect([stall.t, stall.t1]).toEqual([20, 120]);
    // The replay stops where its budget ends, and says how much is missing.
    const replay = r.sessions[0]!.replay!;
    const replayed = replay.chunks.reduce((n, ch) => n + Buffer.from(ch[2], 'base64').length, 0);
    expect(replayed).toBeLessThanOrEqual(REPORT_LIMITS.replayBytes);
    expect(replayed + replay.omittedBytes).toBe(N * SIZE);
    expect(JSON.stringify(r).length).toBeLessThan(10 * 1024 * 1024);
  });

  it('a stall never reopened lasts to the end of the session', () => {
    const c = new ReportCollector(createFilter({}));
    c.event(start);
    c.event({ kind: 'flow-control', ...s, time: T0 + 500, direction: 'clientToServer', streamId: 0, state: 'exhausted', window: 0, stalledUs: null, violation: false });
    const r = c.finish(summaryOf(T0 + 9000), 'kubewire test', 'x.pcap');
    const stall = r.sessions[0]!.lanes.find((l) => l.key === 'session')!.marks.find((m) => m.k === 'stall')!;
    expect([stall.t, stall.t1, stall.d]).toEqual([500, 9000, 0]);
  });
});

describe('fillTemplate', () => {
  it('puts the JSON in place so that no string in it can end the script element', () => {
    const html = fillTemplate(`<script type="application/json">${DATA_PLACEHOLDER}</script>`, JSON.stringify({ cmd: '</script><script>alert(1)</script>' }));
    expect(html.match(/<\/script>/g)).toHaveLength(1);
    const json = /<script type="application\/json">(.*)<\/script>/.exec(html)![1]!;
    expect(JSON.parse(json)).toEqual({ cmd: '</script><script>alert(1)</script>' });
  });

  it('refuses a template without the placeholder', () => {
    expect(() => fillTemplate('<html></html>', '{}')).toThrow(/placeholder/);
  });
});
