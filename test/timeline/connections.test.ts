import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SessionDecoder } from '../../src/timeline/index.js';
import type { ConnectionEvent } from '../../src/tcp/types.js';
import { requestInfo, queryBool } from '../../src/timeline/request-info.js';
import { C, S, decode, enc, script } from './helpers.js';
import { spdyExecTty } from './spdy-session.test.js';

describe('connections and requests', () => {
  it('links a refused WebSocket upgrade and its SPDY retry; the refusal is not a session', () => {
    const path = '/api/v1/namespaces/default/pods/web/exec';
    const refused = script(
      [
        { d: C, bytes: enc(`GET ${path}?command=sh&stdin=true&stdout=true&tty=true HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: a2V5a2V5\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n`) },
        { d: S, bytes: enc('HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: 63\r\n\r\n{"kind":"Status","status":"Failure","message":"no websockets"}\n') },
      ],
      { connection: 1, client: { address: '127.0.0.1', port: 50000 } },
    );
    const retry = script(spdyExecTty(), { connection: 2, client: { address: '127.0.0.1', port: 50001 }, t0: 1_700_000_000_100_000 });
    const { decoder, events } = decode([...refused, ...retry]);
    const sum = decoder.summary();
    expect(sum.sessions).toHaveLength(1);
    expect(sum.sessions[0]).toMatchObject({ connection: 2, retryOf: 1, transport: 'spdy/3.1' });
    const r = sum.requests.find((x) => x.connection === 1)!;
    expect(r).toMatchObject({ status: 403, upgrade: 'websocket', retriedBy: sum.sessions[0]!.session });
    const refusal = events.find((e) => e.kind === 'upgrade-refused');
    expect(refusal).toMatchObject({ connection: 1, status: 403, message: 'no websockets' });
    expect(events.find((e) => e.kind === 'session-start')).toMatchObject({ retryOf: 1 });
  });

  it('shows plain keep-alive requests and their responses', () => {
    const ev = script([
      { d: C, bytes: enc('GET /api?timeout=32s HTTP/1.1\r\nHost: x\r\n\r\n') },
      { d: S, bytes: enc('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}') },
      { d: C, bytes: enc('GET /api/v1/namespaces/default/pods/web HTTP/1.1\r\nHost: x\r\n\r\n') },
      { d: S, bytes: enc('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n') },
    ]);
    const { decoder, events } = decode(ev);
    expect(decoder.summary().sessions).toEqual([]);
    expect(decoder.summary().requests.map((r) => [r.path, r.status])).toEqual([
      ['/api', 200],
      ['/api/v1/namespaces/default/pods/web', 200],
    ]);
    expect(events.filter((e) => e.kind === 'http-response').map((e) => e.kind === 'http-response' && e.bodyLength)).toEqual([2, 2]);
    expect(decoder.diagnosticCount).toBe(0);
  });

  it('finds HTTP on any port and swaps when the server side sent the request', () => {
    const ev = script(
      [
        { d: S, bytes: enc('GET /x HTTP/1.1\r\n\r\n') },
        { d: C, bytes: enc('HTTP/1.1 204 No Content\r\n\r\n') },
      ],
      { startedLate: true, client: { address: '10.0.0.1', port: 8080 }, server: { address: '10.0.0.2', port: 40000 } },
    );
    const { decoder, events } = decode(ev);
    expect(events.some((e) => e.kind === 'connection-swap')).toBe(true);
    expect(decoder.summary().requests[0]).toMatchObject({ client: '10.0.0.2:40000', server: '10.0.0.1:8080', status: 204 });
  });

  it('leaves TLS and other opaque connections alone, without diagnostics', () => {
    const tls = new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, ...new Array(64).fill(7)]);
    const { decoder, events } = decode(script([{ d: C, bytes: tls }, { d: S, bytes: tls }]));
    expect(events.find((e) => e.kind === 'connection-classified')).toMatchObject({ protocol: 'opaque' });
    expect(decoder.diagnosticCount).toBe(0);
  });

  it('never reads encrypted or random bytes as frames (TLS records, any content, even with decodeAs)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 40, maxLength: 600 }), fc.uint8Array({ minLength: 40, maxLength: 900 }), fc.boolean(), (hello, reply, tls) => {
        const c = tls ? new Uint8Array([0x16, 0x03, 0x01, hello.length >> 8, hello.length & 0xff, ...hello]) : hello;
        const s = tls ? new Uint8Array([0x16, 0x03, 0x03, reply.length >> 8, reply.length & 0xff, ...reply]) : reply;
        // seen from the SYN: bytes at offset 0 must start with a frame, and client frames must be masked
        const { decoder } = decode(script([{ d: C, bytes: c }, { d: S, bytes: s }]), { decodeAs: tls ? 'spdy' : undefined });
        if (tls) {
          expect(decoder.summary().sessions).toEqual([]);
          expect(decoder.diagnosticCount).toBe(0);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('reports a gap during a session and keeps decoding the other direction', () => {
    const ev = script(spdyExecTty());
    // lose part of the server's stdout bytes
    const idx = ev.findIndex((e) => e.kind === 'data' && e.direction === S && e.bytes.length === 28);
    const d = ev[idx]!;
    if (d.kind !== 'data') throw new Error('setup');
    const gapped: ConnectionEvent[] = [...ev.slice(0, idx), { kind: 'gap', connection: 1, direction: S, offset: d.offset, size: 10, time: d.time }, { ...d, bytes: d.bytes.subarray(10), offset: d.offset + 10 }, ...ev.slice(idx + 1)];
    const { decoder, events } = decode(gapped);
    const s = decoder.summary().sessions[0]!;
    expect(s.gaps).toBe(1);
    expect(events.some((e) => e.kind === 'gap')).toBe(true);
    expect(decoder.diagnosticCount).toBeGreaterThan(0);
    // client→server is untouched
    expect(s.streams.find((x) => x.role === 'stdin')!.clientToServer.bytes).toBe(3);
    expect(s.resizes).toHaveLength(2);
  });

  it('never throws and stays bounded on garbage connection events', () => {
    const arbEvent = fc.oneof(
      fc.record({ kind: fc.constant('data' as const), direction: fc.constantFrom(C, S), bytes: fc.uint8Array({ maxLength: 80 }) }),
      fc.record({ kind: fc.constant('gap' as const), direction: fc.constantFrom(C, S), size: fc.integer({ min: 1, max: 100 }) }),
      fc.record({ kind: fc.constant('http' as const), direction: fc.constantFrom(C, S), text: fc.constantFrom('GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n', 'HTTP/1.1 101 OK\r\nUpgrade: SPDY/3.1\r\n\r\n', 'HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io\r\n\r\n', '\x80\x03\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01') }),
    );
    fc.assert(
      fc.property(fc.array(arbEvent, { maxLength: 20 }), fc.boolean(), fc.constantFrom(undefined, 'spdy', 'websocket', 'v4.channel.k8s.io'), (steps, late, decodeAs) => {
        const dec = new SessionDecoder({ decodeAs });
        const seen: string[] = [];
        const push = (e: ConnectionEvent) => {
          for (const x of dec.push(e)) if (x.kind === 'diagnostic') seen.push(x.error.code);
        };
        const off = { clientToServer: 0, serverToClient: 0 };
        let t = 1;
        push({ kind: 'open', connection: 1, client: { address: '::1', port: 1 }, server: { address: '::1', port: 2 }, time: t, startedLate: late });
        for (const s of steps) {
          t++;
          if (s.kind === 'gap') {
            push({ kind: 'gap', connection: 1, direction: s.direction, offset: off[s.direction], size: s.size, time: t });
            off[s.direction] += s.size;
          } else {
            const bytes = s.kind === 'http' ? enc(s.text) : s.bytes;
            push({ kind: 'data', connection: 1, direction: s.direction, bytes, offset: off[s.direction], time: t });
            off[s.direction] += bytes.length;
          }
        }
        push({ kind: 'close', connection: 1, reason: 'rst', time: t + 1 });
        for (const x of dec.finish()) if (x.kind === 'diagnostic') seen.push(x.error.code);
        const sum = dec.summary();
        expect(sum.diagnostics).toBe(dec.diagnosticCount);
        // no internal errors: every diagnostic is about the input
        expect(seen.filter((c) => c === 'TIMELINE_INTERNAL_ERROR' || c === 'TIMELINE_CODEC_FAILED')).toEqual([]);
        JSON.stringify(sum);
      }),
      { numRuns: 200 },
    );
  });

  it('diagnostics name the connection and never stop other connections', () => {
    const bad = script([{ d: C, bytes: enc('GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n') }], { connection: 7 });
    const good = script(spdyExecTty(), { connection: 8 });
    const { decoder, events } = decode([...bad, ...good]);
    const diag = events.find((e) => e.kind === 'diagnostic');
    expect(diag).toMatchObject({ connection: 7, direction: C });
    expect(diag?.kind === 'diagnostic' && diag.error.code).toBe('HTTP_BAD_CONTENT_LENGTH');
    expect(decoder.summary().sessions[0]).toMatchObject({ connection: 8, exit: { code: 3 } });
  });
});

describe('request info', () => {
  it('tells the hop from the path', () => {
    expect(requestInfo('/api/v1/namespaces/ns/pods/p/attach', 'container=c&stdin=true&tty=true')).toMatchObject({ hop: 'client-apiserver', kind: 'attach', namespace: 'ns', pod: 'p', container: 'c', tty: true });
    expect(requestInfo('/exec/ns/p/c', 'command=ls&input=1&output=1&tty=0')).toMatchObject({ hop: 'apiserver-kubelet', kind: 'exec', namespace: 'ns', pod: 'p', container: 'c', stdin: true, stdout: true, stderr: false, tty: false, command: ['ls'] });
    // what the API server sends the kubelet for `kubectl exec -it p -- sh`
    expect(requestInfo('/exec/default/p/main', 'command=sh&error=1&input=1&output=1&tty=1')).toMatchObject({ stdin: true, stdout: true, stderr: true, tty: true, command: ['sh'] });
    expect(requestInfo('/exec/ns/p/uid-1/c', '')).toMatchObject({ hop: 'apiserver-kubelet', container: 'c' });
    expect(requestInfo('/portForward/ns/p', 'port=8080,9090')).toMatchObject({ hop: 'apiserver-kubelet', kind: 'portforward', namespace: 'ns', pod: 'p', ports: [8080, 9090] });
    expect(requestInfo('/exec/AbCd_-12', '')).toMatchObject({ hop: 'kubelet-runtime', kind: 'exec', namespace: null });
    expect(requestInfo('/portforward/tok', '')).toMatchObject({ hop: 'kubelet-runtime', kind: 'portforward' });
    expect(requestInfo('/api/v1/namespaces/ns/pods/p/portforward', 'ports=80&ports=443')).toMatchObject({ ports: [80, 443] });
    expect(requestInfo('/exec/ns/p/c', '')).toMatchObject({ nodeProxy: null });
    // through the API server's node proxy: the kubelet's forms after /api/v1/nodes/{node}/proxy
    expect(requestInfo('/api/v1/nodes/n1/proxy/exec/ns/p/c', 'command=sh&input=1')).toMatchObject({ hop: 'client-apiserver', nodeProxy: 'n1', kind: 'exec', namespace: 'ns', pod: 'p', container: 'c', stdin: true, command: ['sh'] });
    expect(requestInfo('/api/v1/nodes/n1:10250/proxy/attach/ns/p/uid-1/c', '')).toMatchObject({ hop: 'client-apiserver', nodeProxy: 'n1:10250', kind: 'attach', container: 'c' });
    expect(requestInfo('/api/v1/nodes/n1/proxy/portForward/ns/p', 'port=80')).toMatchObject({ hop: 'client-apiserver', nodeProxy: 'n1', kind: 'portforward', namespace: 'ns', pod: 'p', container: null, ports: [80] });
    // the node proxy's other kubelet paths, and forms the kubelet does not have, are not exec sessions
    expect(requestInfo('/api/v1/nodes/n1/proxy/metrics', '')).toMatchObject({ hop: 'unknown', kind: 'unknown', nodeProxy: null });
    expect(requestInfo('/api/v1/nodes/n1/proxy/exec/ns/p', '')).toMatchObject({ hop: 'unknown', kind: 'unknown', nodeProxy: null });
    expect(requestInfo('/exec/ns/p', '')).toMatchObject({ hop: 'unknown', kind: 'exec' });
    // after a server URL's path prefix, as kubectl sends them to a Rancher-style cluster proxy
    expect(requestInfo('/k8s/clusters/c-m-1/api/v1/namespaces/ns/pods/p/exec', 'command=sh')).toMatchObject({ hop: 'client-apiserver', kind: 'exec', namespace: 'ns', pod: 'p', command: ['sh'] });
    expect(requestInfo('/k8s/clusters/c-m-1/api/v1/nodes/n1/proxy/portForward/ns/p', '')).toMatchObject({ hop: 'client-apiserver', kind: 'portforward', nodeProxy: 'n1', namespace: 'ns', pod: 'p' });
    // an api/v1 in the prefix itself, and a namespace and pod named like it
    expect(requestInfo('/api/v1/x/api/v1/namespaces/ns/pods/p/attach', '')).toMatchObject({ hop: 'client-apiserver', kind: 'attach', namespace: 'ns', pod: 'p' });
    expect(requestInfo('/api/v1/namespaces/api/pods/v1/exec', '')).toMatchObject({ hop: 'client-apiserver', namespace: 'api', pod: 'v1' });
    expect(requestInfo('/api/v1/nodes/n/proxy/exec/api/v1/c', '')).toMatchObject({ hop: 'client-apiserver', nodeProxy: 'n', namespace: 'api', pod: 'v1', container: 'c' });
    // other subresources, prefixed or not, are not sessions
    expect(requestInfo('/k8s/clusters/c-m-1/api/v1/namespaces/ns/pods/p/log', '')).toMatchObject({ hop: 'unknown', kind: 'unknown' });
    expect(requestInfo('/k8s/clusters/c-m-1/api/v1/namespaces/ns/pods/p/exec/more', '')).toMatchObject({ hop: 'unknown', kind: 'unknown' });
    expect(requestInfo('/healthz', '')).toMatchObject({ hop: 'unknown', kind: 'unknown' });
  });
  it('reads booleans like the API server', () => {
    expect(queryBool([])).toBe(false);
    expect(queryBool(['false'])).toBe(false);
    expect(queryBool(['FALSE'])).toBe(false);
    expect(queryBool(['0'])).toBe(false);
    expect(queryBool([''])).toBe(true);
    expect(queryBool(['True'])).toBe(true);
  });
});

describe('decodeAs', () => {
  it('forces SPDY on a connection without HTTP, inflating headers when the capture saw it start', () => {
    const steps = spdyExecTty().slice(2); // no HTTP exchange
    const { decoder } = decode(script(steps), { decodeAs: new Map([[1, 'v4.channel.k8s.io']]) });
    const s = decoder.summary().sessions[0]!;
    expect(s).toMatchObject({ transport: 'spdy/3.1', protocol: 'v4.channel.k8s.io', kind: 'exec', inferred: true, exit: { code: 3 } });
    expect(s.streams.map((x) => [x.id, x.role, x.inferred])).toEqual([
      [1, 'error', false],
      [3, 'stdin', false],
      [5, 'stdout', false],
      [7, 'resize', false],
    ]);
  });
});

describe('gaps before the upgrade', () => {
  it('loses the HTTP exchange but finds the session by its frames after the gap', () => {
    const ev = script(spdyExecTty());
    // the client's upgrade request is lost entirely
    const first = ev[1]!;
    if (first.kind !== 'data') throw new Error('setup');
    const gapped: ConnectionEvent[] = [ev[0]!, { kind: 'gap', connection: 1, direction: C, offset: 0, size: first.bytes.length, time: first.time }, ...ev.slice(2)];
    const { decoder, events } = decode(gapped);
    const s = decoder.summary().sessions[0]!;
    expect(events.some((e) => e.kind === 'gap')).toBe(true);
    expect(s.streams.find((x) => x.id === 5)!.serverToClient.bytes).toBe(12);
    expect(s.exit).toMatchObject({ code: 3 });
  });
});

describe('isolation', () => {
  it('a corrupted connection never changes what another connection decodes to', () => {
    const clean = script(spdyExecTty(), { connection: 2, client: { address: '127.0.0.1', port: 50002 } });
    const alone = decode(clean).decoder.summary().sessions;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }), (flips) => {
        const broken = script(spdyExecTty(), { connection: 1 }).map((e) => (e.kind === 'data' ? { ...e, bytes: e.bytes.slice() } : e));
        const data = broken.filter((e) => e.kind === 'data');
        for (const [which, at, x] of flips) {
          const e = data[which % data.length]!;
          if (e.kind === 'data' && e.bytes.length > 0) e.bytes[at % e.bytes.length] ^= x;
        }
        // interleave the two connections event by event
        const mixed: ConnectionEvent[] = [];
        for (let i = 0; i < Math.max(broken.length, clean.length); i++) {
          if (broken[i]) mixed.push(broken[i]!);
          if (clean[i]) mixed.push(clean[i]!);
        }
        const { decoder, events } = decode(mixed);
        const internal = events.filter((e) => e.kind === 'diagnostic' && /INTERNAL|CODEC_FAILED/.test(e.error.code));
        expect(internal).toEqual([]);
        const other = decoder.summary().sessions.filter((s) => s.connection === 2);
        expect(other.map((s) => ({ ...s, session: 0 }))).toEqual(alone.map((s) => ({ ...s, session: 0 })));
      }),
      { numRuns: 150 },
    );
  });
});

describe('offsets', () => {
  it('decodes repeated bytes once and treats skipped offsets as a gap', () => {
    const ev = script(spdyExecTty());
    const withRepeats: ConnectionEvent[] = [];
    for (const e of ev) {
      withRepeats.push(e);
      if (e.kind === 'data' && e.bytes.length > 4) withRepeats.push({ ...e, bytes: e.bytes.subarray(2), offset: e.offset + 2 });
    }
    const a = decode(ev).decoder.summary();
    const b = decode(withRepeats).decoder.summary();
    expect(b).toEqual(a);
  });
});

describe('other upgrades', () => {
  it('follows an upgrade to h2c into HTTP/2 (its frames begin with the client preface)', () => {
    const { decoder, events } = decode(
      script([
        { d: C, bytes: enc('GET / HTTP/1.1\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n') },
        { d: S, bytes: enc('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00') },
        { d: C, bytes: enc('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n') },
      ]),
    );
    expect(decoder.summary().sessions).toEqual([]);
    expect(decoder.diagnosticCount).toBe(0);
    expect(events.filter((e) => e.kind === 'connection-classified').map((e) => e.kind === 'connection-classified' && e.protocol)).toEqual(['http', 'http2']);
  });
});

describe('memory bound', () => {
  it('keeps the newest closed connections in the summary and counts the rest', () => {
    const events: ConnectionEvent[] = [];
    for (let i = 1; i <= 5; i++) {
      events.push(
        ...script(
          [
            { d: C, bytes: enc(`GET /r${i} HTTP/1.1\r\n\r\n`) },
            { d: S, bytes: enc('HTTP/1.1 204 No Content\r\n\r\n') },
          ],
          { connection: i, t0: i * 1_000_000 },
        ),
      );
    }
    events.push(...script(spdyExecTty(), { connection: 6, t0: 9_000_000 }));
    const sum = decode(events, { limits: { maxClosedConnectionsKept: 2 } }).decoder.summary();
    expect(sum.requests.map((r) => r.path)).toEqual(['/r5', '/api/v1/namespaces/default/pods/web/exec']);
    expect(sum.sessions).toHaveLength(1);
    expect(sum.dropped).toEqual({ connections: 4, sessions: 0, requests: 4 });
    expect(sum.connections).toBe(6);
  });
});
