/** The CLI's pure pieces: --decode-as parsing, the output form choice, filters, and a line for every event kind. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { KubewireError } from '../../src/common/errors.js';
import { outputFormat, parseDecodeAs, UsageError } from '../../src/cli/decode-run.js';
import { createOutput, formatTimelineEvent, renderSummary } from '../../src/cli/output/index.js';
import { decodeCaptureToConnections } from '../../src/tcp/index.js';
import { SessionDecoder } from '../../src/timeline/index.js';
import { join } from 'node:path';
import { createFilter } from '../../src/cli/output/filter.js';
import { createChalk } from '../../src/cli/output/style.js';
import type { DecodeSummary, TimelineEvent } from '../../src/timeline/index.js';
import { OPCODE, WebSocketFrameEncoder } from '../../src/websocket/index.js';
import { C, S, decode, enc, script, type Step } from '../timeline/helpers.js';

const ep = { address: '127.0.0.1', port: 1 };
const base = { time: 1_700_000_000_000_000, connection: 2 };
const s = { ...base, session: 1 };

/** One event of every kind (the switch in the timeline renderer must know them all). */
const SAMPLES: TimelineEvent[] = [
  { kind: 'connection-open', ...base, client: ep, server: ep, startedLate: false },
  { kind: 'connection-swap', ...base, client: ep, server: ep, why: 'request line seen from the other side' },
  { kind: 'connection-classified', ...base, protocol: 'http', inferred: false, forced: false },
  { kind: 'http-request', ...base, direction: 'clientToServer', index: 0, method: 'POST', target: '/x?a=1', path: '/x', query: 'a=1', version: 'HTTP/1.1', headers: [['Authorization', 'Bearer <redacted>']], upgrade: 'SPDY/3.1', offeredProtocols: ['v4.channel.k8s.io'], bodyLength: 0, offset: 0 },
  { kind: 'http-response', ...base, direction: 'serverToClient', index: 0, status: 101, reason: 'Switching Protocols', version: 'HTTP/1.1', headers: [], chosenProtocol: 'v4.channel.k8s.io', bodyLength: 0, body: null, offset: 0 },
  { kind: 'upgrade', ...s, transport: 'spdy/3.1', protocol: 'v4.channel.k8s.io' },
  { kind: 'upgrade-refused', ...base, index: 0, status: 400, upgrade: 'websocket', path: '/x', message: 'no' },
  { kind: 'session-start', ...s, sessionKind: 'exec', transport: 'spdy/3.1', protocol: 'v4.channel.k8s.io', application: 'kubernetes', hop: 'client-apiserver', nodeProxy: 'n1', namespace: 'ns', pod: 'p', container: 'c', command: ['sh'], stdin: true, stdout: true, stderr: true, tty: false, inferred: false, retryOf: null },
  { kind: 'frame', ...s, direction: 'clientToServer', layer: 'spdy', type: 'data', streamId: 3, role: 'stdin', length: 5, flags: 1, fin: true, offset: 10 },
  { kind: 'stream-open', ...s, direction: 'clientToServer', streamId: 3, role: 'stdin', inferred: true, port: null, requestId: null },
  { kind: 'stream-data', ...s, direction: 'clientToServer', streamId: 3, role: 'stdin', bytes: new Uint8Array([104, 105, 10, 0]), offset: 0 },
  { kind: 'half-close', ...s, direction: 'clientToServer', streamId: 3, role: 'stdin' },
  { kind: 'stream-close', ...s, streamId: 3, role: 'stdin' },
  { kind: 'stream-reset', ...s, direction: 'clientToServer', streamId: 5, role: 'stdout', status: 5, statusName: 'CANCEL' },
  { kind: 'resize', ...s, direction: 'clientToServer', streamId: 7, width: 80, height: 24 },
  { kind: 'exit', ...s, status: 'Failure', code: 3, reason: 'NonZeroExitCode', message: 'exit status 3', sinceLastOutputUs: 1200 },
  { kind: 'goaway', ...s, direction: 'clientToServer', lastGoodStreamId: 0, status: 0, statusName: 'OK' },
  { kind: 'ping', ...s, direction: 'clientToServer', id: 1, reply: false },
  { kind: 'window-update', ...s, direction: 'serverToClient', streamId: 0, delta: 1000, window: 65536 },
  { kind: 'flow-control', ...s, direction: 'serverToClient', streamId: 5, state: 'exhausted', window: 0, stalledUs: null, violation: false },
  { kind: 'gap', ...base, session: 1, direction: 'serverToClient', offset: 100, size: 1460 },
  { kind: 'session-end', ...s, reason: 'goaway' },
  { kind: 'connection-close', ...base, reason: 'fin', direction: 'clientToServer' },
  { kind: 'websocket-message', ...s, direction: 'serverToClient', type: 'text', length: 12, frames: 2, text: '{"op":"hi"}\n', head: null, offset: 40 },
  { kind: 'websocket-close', ...s, direction: 'clientToServer', code: 1000, reason: 'bye' },
  { kind: 'diagnostic', ...base, session: 1, direction: 'serverToClient', streamId: 5, error: new KubewireError('spdy', 'SPDY_TEST', 'stream', 'a test diagnostic') },
];

describe('--decode-as', () => {
  it('one protocol for every connection, or CONN=PROTO per connection', () => {
    expect(parseDecodeAs(undefined)).toBeUndefined();
    expect(parseDecodeAs(['spdy'])).toBe('spdy');
    expect(parseDecodeAs(['spdy', 'spdy'])).toBe('spdy');
    expect(parseDecodeAs(['3=v4.channel.k8s.io', '5=websocket'])).toEqual(new Map([[3, 'v4.channel.k8s.io'], [5, 'websocket']]));
    expect(parseDecodeAs(['2=SPDY/3.1+portforward.k8s.io'])).toEqual(new Map([[2, 'SPDY/3.1+portforward.k8s.io']]));
  });
  it('contradictions are usage errors', () => {
    expect(() => parseDecodeAs(['spdy', 'websocket'])).toThrow(UsageError);
    expect(() => parseDecodeAs(['spdy', '3=websocket'])).toThrow(UsageError);
    expect(() => parseDecodeAs([''])).toThrow(UsageError);
  });
});

describe('output form', () => {
  it('follows the flags', () => {
    const f = { summary: false, json: false, ndjson: false, follow: false };
    expect(outputFormat(f)).toBe('timeline');
    expect(outputFormat({ ...f, summary: true })).toBe('summary');
    expect(outputFormat({ ...f, summary: true, json: true })).toBe('summary');
    expect(outputFormat({ ...f, json: true })).toBe('json');
    expect(outputFormat({ ...f, ndjson: true })).toBe('ndjson');
    expect(outputFormat({ ...f, follow: true })).toBe('follow');
  });
});

describe('timeline lines', () => {
  it('every event kind has a line naming its connection and time', () => {
    const chalk = createChalk(false);
    const kinds = new Set<string>();
    for (const ev of SAMPLES) {
      const line = formatTimelineEvent(ev, chalk);
      kinds.add(ev.kind);
      expect(line, ev.kind).toMatch(/^\d\d:\d\d:\d\d\.\d{6} #2/);
      expect(line).not.toContain('\n');
      expect(line).not.toContain('undefined');
    }
    expect(kinds.size).toBe(SAMPLES.length);
    expect(formatTimelineEvent(SAMPLES[10]!, chalk)).toContain('4 B @0 "hi\\n\\x00"');
  });
  it('colour only when asked', () => {
    expect(formatTimelineEvent(SAMPLES[15]!, createChalk(true))).toMatch(/\x1b\[/);
    expect(formatTimelineEvent(SAMPLES[15]!, createChalk(false))).not.toMatch(/\x1b\[/);
  });
});

describe('text from the capture cannot drive the terminal', () => {
  const HOSTILE = '\x1b]0;owned\x07\x1b[2J\u202e\x9b31m';
  const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
  /** Every string of `v` with control characters and a bidi override appended. */
  const poison = <T>(v: T): T => {
    if (typeof v === 'string') return (v + HOSTILE) as T;
    if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v;
    if (Array.isArray(v)) return v.map(poison) as T;
    const out: Record<string, unknown> = {};
    const keys = v instanceof Error ? Object.getOwnPropertyNames(v) : Object.keys(v);
    // `kind` picks the renderer; every other string could have come off the wire
    for (const k of keys) out[k] = k === 'kind' ? (v as Record<string, unknown>)[k] : poison((v as Record<string, unknown>)[k]);
    return out as T;
  };

  it('timeline lines show control characters and bidi overrides as escapes', () => {
    const chalk = createChalk(false);
    for (const ev of SAMPLES) {
      const line = formatTimelineEvent(poison(ev), chalk);
      expect(line, ev.kind).not.toMatch(UNSAFE);
    }
    expect(formatTimelineEvent(poison(SAMPLES[3]!), chalk)).toContain('\\x1b]0;owned\\x07');
  });

  it('the summary too', async () => {
    const dec = new SessionDecoder();
    await decodeCaptureToConnections(join(import.meta.dirname, '..', '..', 'fixtures', 'k133-exec-tty.pcapng'), (e) => dec.push(e));
    dec.finish();
    const text = renderSummary(poison(dec.summary()), createChalk(false));
    expect(text).toContain('\\x1b[2J');
    expect(text).not.toMatch(UNSAFE);
  });
});

describe('an exec through the API server\'s node proxy', () => {
  it('the timeline and the summary name the node and how it was authorized', () => {
    const chalk = createChalk(false);
    expect(formatTimelineEvent(SAMPLES[7]!, chalk)).toContain('(client → API server through nodes/n1/proxy) ns/p/c -- sh');
    const server = new WebSocketFrameEncoder({ role: 'server' });
    const steps: Step[] = [
      { d: C, bytes: enc('GET /api/v1/nodes/n1/proxy/attach/ns/p/c?output=1 HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n') },
      { d: S, bytes: enc('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n') },
      { d: S, bytes: server.encode({ opcode: OPCODE.BINARY, payload: new Uint8Array([1, 104, 105]) }) },
    ];
    const text = renderSummary(decode(script(steps)).decoder.summary(), chalk);
    expect(text).toContain('hop client → API server through nodes/n1/proxy (authorized as nodes/proxy, not pods/attach)');
    // a session straight to the pod's subresource says nothing of the kind
    const plain = renderSummary(decode(script([{ d: C, bytes: enc('GET /api/v1/namespaces/ns/pods/p/attach?stdout=1 HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n') }, steps[1]!, steps[2]!])).decoder.summary(), chalk);
    expect(plain).toContain('hop client → API server  pod ns/p');
    expect(plain).not.toContain('nodes/');
  });
});

describe('the summary\'s other requests', () => {
  it('are listed in time order, whatever connection they came on', () => {
    const req = (connection: number, time: number, path: string) => ({ connection, client: '127.0.0.1:1', server: '127.0.0.1:2', method: 'GET', path, query: '', status: 200, upgrade: null, retriedBy: null, time, files: [] });
    const summary = { sessions: [], requests: [req(1, 3_000_000, '/late-on-1'), req(2, 1_000_000, '/early-on-2'), req(2, 2_000_000, '/middle-on-2')], connections: 2, diagnostics: 0, dropped: { connections: 0, sessions: 0, requests: 0 }, tlsConnections: [] } as unknown as DecodeSummary;
    const text = renderSummary(summary, createChalk(false));
    const order = ['/early-on-2', '/middle-on-2', '/late-on-1'].map((p) => text.indexOf(p));
    expect(order.every((at) => at > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });
});

describe('filters', () => {
  it('--stream and --role keep their streams and session-level facts', () => {
    const f = createFilter({ stream: [5] });
    const kept = SAMPLES.filter((e) => f.keep(e)).map((e) => e.kind);
    expect(kept).toContain('stream-reset');
    expect(kept).toContain('exit');
    expect(kept).toContain('session-start');
    expect(kept).not.toContain('stream-data');
    const r = createFilter({ role: ['stdin'] });
    const byRole = SAMPLES.filter((e) => r.keep(e)).map((e) => e.kind);
    expect(byRole).toContain('stream-data');
    expect(byRole).not.toContain('stream-reset');
  });
  it('--session drops other sessions and connections without one', () => {
    const f = createFilter({ session: [2] });
    expect(SAMPLES.filter((e) => f.keep(e))).toEqual([]);
    const g = createFilter({ session: [1] });
    // Connection-level events before the session's first event are dropped, later ones kept.
    const kept = SAMPLES.filter((e) => g.keep(e)).map((e) => e.kind);
    expect(kept).not.toContain('connection-open');
    expect(kept).toContain('connection-close');
    expect(kept).toContain('upgrade');
  });
});

describe('createOutput', () => {
  const summary: DecodeSummary = {
    sessions: [],
    requests: [],
    connections: 1,
    diagnostics: 1,
    dropped: { connections: 0, sessions: 0, requests: 0 },
  };
  const sink = () => {
    const chunks: Buffer[] = [];
    const stdout = new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(Buffer.from(c));
        cb();
      },
    });
    return { stdout, text: () => Buffer.concat(chunks).toString() };
  };
  it('json is a valid document even with no events', async () => {
    const o = sink();
    const out = createOutput({ format: 'json', color: false, showSecrets: false, filters: { session: [9] }, stdout: o.stdout });
    for (const ev of SAMPLES) out.event(ev);
    await out.finish(summary);
    expect(JSON.parse(o.text())).toEqual({ events: [], summary });
  });
  it('ndjson writes one parseable line per event, bytes only when asked', async () => {
    const o = sink();
    const out = createOutput({ format: 'ndjson', color: false, showSecrets: false, filters: {}, stdout: o.stdout, bytes: true });
    for (const ev of SAMPLES) out.event(ev);
    await out.finish(summary);
    const lines = o.text().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.kind)).toEqual(SAMPLES.map((e) => e.kind));
    const data = lines.find((l) => l.kind === 'stream-data')!;
    expect(data.base64).toBe(Buffer.from([104, 105, 10, 0]).toString('base64'));
    expect(data.length).toBe(4);
    expect((lines.at(-1)!.error as { code: string }).code).toBe('SPDY_TEST');
  });
  it('summary --json prints the summary document', async () => {
    const o = sink();
    const out = createOutput({ format: 'summary', summaryJson: true, color: false, showSecrets: false, filters: {}, stdout: o.stdout });
    await out.finish(summary);
    expect(JSON.parse(o.text())).toEqual(summary);
  });
});
