import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SpdyFrameEncoder } from '../../src/spdy/index.js';
import { C, S, decode, enc, rechunk, script, sha256, cat, type Step } from './helpers.js';

const STATUS_EXIT_3 =
  '{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}';

/** kubectl exec -it over SPDY: error, stdin, stdout, resize; stdin EOF; exit 3; RSTs and GOAWAY. */
export function spdyExecTty(): Step[] {
  const c = new SpdyFrameEncoder();
  const s = new SpdyFrameEncoder();
  const steps: Step[] = [];
  steps.push({
    d: C,
    bytes: enc(
      'POST /api/v1/namespaces/default/pods/web/exec?command=sh&command=-c&command=echo+hi&container=app&stdin=true&stdout=true&tty=true HTTP/1.1\r\n' +
        'Host: 127.0.0.1:6443\r\nUser-Agent: kubectl/v1.27.16\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
        'X-Stream-Protocol-Version: v4.channel.k8s.io\r\nX-Stream-Protocol-Version: v3.channel.k8s.io\r\nAuthorization: Bearer sekrit\r\n\r\n',
    ),
  });
  // the 101 and the first server bytes share nothing here; the client speaks first after it
  steps.push({ d: S, bytes: enc('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n') });
  const roles = ['error', 'stdin', 'stdout', 'resize'];
  roles.forEach((role, i) => {
    const id = 1 + 2 * i;
    steps.push({ d: C, bytes: c.encode({ kind: 'syn_stream', streamId: id, headers: [['streamtype', role]] }) });
    steps.push({ d: S, bytes: s.encode({ kind: 'syn_reply', streamId: id, headers: [] }) });
  });
  steps.push({ d: C, bytes: c.encode({ kind: 'data', streamId: 7, data: enc('{"Width":80,"Height":24}\n') }) });
  steps.push({ d: C, bytes: c.encode({ kind: 'data', streamId: 3, data: enc('ls\n') }) });
  steps.push({ d: C, bytes: c.encode({ kind: 'ping', id: 1 }) });
  steps.push({ d: S, bytes: s.encode({ kind: 'ping', id: 1 }) });
  steps.push({ d: S, bytes: cat(s.encode({ kind: 'data', streamId: 5, data: enc('file1\n') }), s.encode({ kind: 'data', streamId: 5, data: enc('file2\n') })) });
  steps.push({ d: C, bytes: c.encode({ kind: 'data', streamId: 7, data: enc('{"Width":120,"Height":40}\n') }) });
  steps.push({ d: C, bytes: c.encode({ kind: 'data', streamId: 3, data: new Uint8Array(0), fin: true }) });
  steps.push({ d: S, bytes: s.encode({ kind: 'data', streamId: 1, data: enc(STATUS_EXIT_3) }) });
  steps.push({ d: S, bytes: s.encode({ kind: 'data', streamId: 1, data: new Uint8Array(0), fin: true }) });
  for (const id of [5, 7, 1]) steps.push({ d: C, bytes: c.encode({ kind: 'rst_stream', streamId: id, status: 5 }) });
  steps.push({ d: C, bytes: c.encode({ kind: 'goaway', lastGoodStreamId: 0, status: 0 }) });
  return steps;
}

describe('SPDY exec session', () => {
  it('decodes the upgrade, streams, resizes, stdin half-close and exit status', () => {
    const { events, decoder } = decode(script(spdyExecTty()));
    const sum = decoder.summary();
    expect(sum.sessions).toHaveLength(1);
    const s = sum.sessions[0]!;
    expect(s).toMatchObject({
      kind: 'exec',
      transport: 'spdy/3.1',
      protocol: 'v4.channel.k8s.io',
      client: '127.0.0.1:54321',
      server: '127.0.0.1:6443',
      request: { method: 'POST', path: '/api/v1/namespaces/default/pods/web/exec' },
      hop: 'client-apiserver',
      namespace: 'default',
      pod: 'web',
      container: 'app',
      command: ['sh', '-c', 'echo hi'],
      stdin: true,
      stdout: true,
      stderr: false,
      tty: true,
      resizes: [
        { width: 80, height: 24 },
        { width: 120, height: 40 },
      ],
      exit: { status: 'Failure', code: 3, reason: 'NonZeroExitCode' },
      stdinClosed: true,
      inferred: false,
      end: 'exit',
      pings: { clientToServer: 1, serverToClient: 1 },
    });
    expect(s.offeredProtocols).toEqual(['v4.channel.k8s.io', 'v3.channel.k8s.io']);
    expect(s.streams.map((x) => [x.id, x.role])).toEqual([
      [1, 'error'],
      [3, 'stdin'],
      [5, 'stdout'],
      [7, 'resize'],
    ]);
    const byRole = Object.fromEntries(s.streams.map((x) => [x.role, x]));
    expect(byRole.stdin!.clientToServer).toEqual({ bytes: 3, sha256: sha256('ls\n') });
    expect(byRole.stdout!.serverToClient).toEqual({ bytes: 12, sha256: sha256('file1\nfile2\n') });
    expect(byRole.stdout!.clientToServer).toEqual({ bytes: 0, sha256: sha256('') });
    expect(byRole.error!.serverToClient.sha256).toBe(sha256(STATUS_EXIT_3));
    expect(byRole.stdout!.reset).toEqual({ direction: C, status: 5, statusName: 'CANCEL' });
    expect(s.lastOutputToExitUs).toBe(3000);
    expect(decoder.diagnosticCount).toBe(0);
    // secrets never leave unless asked
    const req = events.find((e) => e.kind === 'http-request');
    expect(JSON.stringify(req)).not.toContain('sekrit');
    expect(JSON.stringify(events.filter((e) => e.kind !== 'stream-data'))).not.toContain('sekrit');
    const kinds = new Set(events.map((e) => e.kind));
    for (const k of ['connection-open', 'http-request', 'http-response', 'upgrade', 'session-start', 'stream-open', 'stream-data', 'half-close', 'resize', 'exit', 'stream-reset', 'goaway', 'ping', 'session-end', 'connection-close']) {
      expect(kinds.has(k as never), k).toBe(true);
    }
    const exit = events.find((e) => e.kind === 'exit');
    expect(exit).toMatchObject({ code: 3, sinceLastOutputUs: 3000 });
  });

  it('shows secrets with showSecrets', () => {
    const { events } = decode(script(spdyExecTty()), { showSecrets: true });
    const req = events.find((e) => e.kind === 'http-request');
    expect(JSON.stringify(req)).toContain('Bearer sekrit');
  });

  it('gives the same summary for any TCP chunking', () => {
    const steps = spdyExecTty();
    const whole = decode(script(steps)).decoder.summary();
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 400 }), { maxLength: 6 }), (cuts) => {
        const ev = rechunk(script(steps), (len) => cuts.map((c) => c % len));
        const got = decode(ev).decoder.summary();
        expect(got).toEqual(whole);
      }),
      { numRuns: 60 },
    );
  });

  it('joins mid-session: DATA still decodes, roles inferred', () => {
    const steps = spdyExecTty();
    // drop the HTTP exchange and the stream set-up: start at the first DATA (resize), and inside it
    const late = steps.slice(10);
    late[0] = { d: late[0]!.d, bytes: late[0]!.bytes.subarray(5) }; // mid-frame
    const { decoder, events } = decode(script(late, { startedLate: true }));
    const s = decoder.summary().sessions[0]!;
    expect(s.inferred).toBe(true);
    expect(s.transport).toBe('spdy/3.1');
    const byId = Object.fromEntries(s.streams.map((x) => [x.id, x]));
    expect(byId[3]).toMatchObject({ role: 'stdin', inferred: true, clientToServer: { bytes: 3, sha256: sha256('ls\n') } });
    expect(byId[5]).toMatchObject({ role: 'stdout', inferred: true, serverToClient: { bytes: 12, sha256: sha256('file1\nfile2\n') } });
    expect(byId[1]).toMatchObject({ role: 'error' });
    expect(s.exit).toMatchObject({ status: 'Failure', code: 3 });
    expect(s.resizes).toEqual([{ width: 120, height: 40 }]);
    expect(events.some((e) => e.kind === 'diagnostic' && e.error.code === 'TIMELINE_JOINED_MID_FRAME')).toBe(true);
  });
});

describe('SPDY port-forward joined mid-session', () => {
  it('streams that carry client bytes are data, even where parallel requests broke the error/data pair order', () => {
    // Two requests opened at once: error streams 1 and 3, then data streams 5 and 7
    // (the pair order alone would call 5 an error stream). The capture joins after the SYN_STREAMs.
    const c = new SpdyFrameEncoder();
    const s = new SpdyFrameEncoder();
    const steps: Step[] = [];
    const body = (tag: string, n: number) => enc(`${tag} ${n} `.padEnd(200, '.'));
    for (let n = 0; n < 4; n++) {
      for (const id of [5, 7]) {
        steps.push({ d: C, bytes: c.encode({ kind: 'data', streamId: id, data: body(`request on ${id}`, n) }) });
        steps.push({ d: S, bytes: s.encode({ kind: 'data', streamId: id, data: body(`response on ${id}`, n) }) });
      }
    }
    const { decoder } = decode(script(steps, { startedLate: true }));
    const sess = decoder.summary().sessions[0]!;
    expect(sess.kind).toBe('portforward');
    const byId = Object.fromEntries(sess.streams.map((x) => [x.id, x]));
    for (const id of [5, 7]) {
      expect(byId[id], `stream ${id}`).toMatchObject({ role: 'data', inferred: true, clientToServer: { bytes: 800 }, serverToClient: { bytes: 800 } });
    }
  });
});

describe('hops of the exec path', () => {
  const withTarget = (target: string): Step[] =>
    spdyExecTty().map((step, i) =>
      i === 0
        ? { ...step, bytes: enc(new TextDecoder().decode(step.bytes).replace(/^POST \S+/, `POST ${target}`)) }
        : step,
    );

  it('names the API server → kubelet hop and reads its option names', () => {
    const s = decode(script(withTarget('/exec/default/web/app?command=sh&input=1&output=1&tty=1'))).decoder.summary().sessions[0]!;
    expect(s).toMatchObject({ hop: 'apiserver-kubelet', kind: 'exec', namespace: 'default', pod: 'web', container: 'app', stdin: true, stdout: true, stderr: false, tty: true });
  });

  it('names the kubelet → runtime hop and takes the options from the streams opened', () => {
    const s = decode(script(withTarget('/exec/Xq3-token_9'))).decoder.summary().sessions[0]!;
    expect(s).toMatchObject({ hop: 'kubelet-runtime', kind: 'exec', namespace: null, pod: null, stdin: true, stdout: true, stderr: false, tty: true });
    expect(s.streams.map((x) => x.role)).toEqual(['error', 'stdin', 'stdout', 'resize']);
  });
});
