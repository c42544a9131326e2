/**
 * kubectl 1.33 against a server built from our codecs: WebSocket v5 exec,
 * and port-forward through the SPDY/3.1 tunnel.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { kubectlBinary, kubectlMissing, runKubectl, writeKubeconfig } from '../helpers/kubectl.js';
import { startWsServer, until, type TestServer } from './helpers/ws-server.js';
import { serveExec, type ExecRecord } from './helpers/exec-handler.js';
import { serveTunnel, type TunnelRecord } from './helpers/tunnel-handler.js';

// 1.30 brought WebSocket exec (v5 only), 1.31 the port-forward tunnel; 1.33 is the reference.
const VERSIONS = ['1.33', '1.32', '1.31', '1.30'];

let server: TestServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

describe.each(VERSIONS)('kubectl %s over WebSocket', (VERSION) => {
  const missing = kubectlMissing(VERSION);
  if (missing) console.warn(`skipping kubectl ${VERSION} interop: ${missing}`);
  const tunnel = VERSION !== '1.30';

  it.skipIf(missing !== null)('exec -i (v5): stdin bytes and the close signal arrive; stdout, stderr and exit code 3 reach kubectl', async () => {
    let record: ExecRecord | null = null;
    server = await startWsServer(
      () => ['v5.channel.k8s.io', 'v4.channel.k8s.io'],
      (s) => {
        record = serveExec(s, { exitCode: 3 });
      },
    );
    const kubeconfig = writeKubeconfig(server.url);
    const result = await runKubectl(kubectlBinary(VERSION)!, ['exec', '-i', 'web', '--', 'cat'], { kubeconfig, stdin: 'hello\n', timeoutMs: 30_000 });
    const session = server.sessions[0]!;
    expect(session.offered).toEqual(['v5.channel.k8s.io']);
    expect(session.protocol).toBe('v5.channel.k8s.io');
    expect(session.problems).toEqual([]);
    expect(session.url.pathname).toBe('/api/v1/namespaces/default/pods/web/exec');
    // Every client frame masked; data frames are whole binary messages.
    expect(session.frames.every((f) => f.masked)).toBe(true);
    const data = session.frames.filter((f) => f.kind === 'binary');
    expect(data.every((f) => f.fin)).toBe(true);
    expect(data.map((f) => Buffer.from(f.payload).toString('hex'))).toEqual(['00' + Buffer.from('hello\n').toString('hex'), 'ff00']);
    const r = record as unknown as ExecRecord;
    expect(r.stdin.toString()).toBe('hello\n');
    expect(r.stdinClosed).toBe(true);
    expect(r.events.map((e) => e.kind)).toEqual(['data', 'close']);
    expect(result.stdout.toString()).toBe('out:hello\n');
    expect(result.stderr.toString()).toContain('err\n');
    expect(result.stderr.toString()).toContain('command terminated with exit code 3');
    expect(result.code).toBe(3);
  });

  if (tunnel) it.skipIf(missing !== null)('port-forward through the SPDY/3.1 tunnel: SPDY frames across tiny messages, bytes echoed exactly', async () => {
    let record: TunnelRecord | null = null;
    server = await startWsServer(
      () => ['SPDY/3.1+portforward.k8s.io'],
      (s) => {
        record = serveTunnel(s);
      },
    );
    const kubeconfig = writeKubeconfig(server.url);
    const payload = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) & 255));
    let echoed = Buffer.alloc(0);
    const result = await runKubectl(kubectlBinary(VERSION)!, ['port-forward', 'web', ':8080'], {
      kubeconfig,
      timeoutMs: 30_000,
      onSpawn: (child) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(out);
          if (!m || out.includes('#started')) return;
          out += '#started';
          const sock = connect(Number(m[1]), '127.0.0.1', () => sock.write(payload));
          const stop = () => {
            child.kill('SIGINT');
            setTimeout(() => child.kill('SIGKILL'), 5000).unref();
          };
          sock.on('data', (d: Buffer) => {
            echoed = Buffer.concat([echoed, d]);
            if (echoed.length >= payload.length) {
              sock.end();
              setTimeout(stop, 300);
            }
          });
          sock.on('error', stop);
        });
      },
    });
    expect(result.signal ?? result.code).toBeDefined();
    const session = server.sessions[0]!;
    expect(session.offered).toEqual(['SPDY/3.1+portforward.k8s.io']);
    expect(session.protocol).toBe('SPDY/3.1+portforward.k8s.io');
    expect(session.problems).toEqual([]);
    expect(echoed.equals(payload)).toBe(true);
    const r = record as unknown as TunnelRecord;
    // kubectl writes SPDY fields separately: messages of a few bytes, and some empty ones.
    expect(r.messageSizes.some((n) => n <= 4)).toBe(true);
    const opened = r.events.filter((e) => e.kind === 'stream-open');
    expect(opened.map((e) => 'role' in e && [e.role, e.port, e.requestId])).toEqual([
      ['error', 8080, '0'],
      ['data', 8080, '0'],
    ]);
    const dataStream = opened[1]!.kind === 'stream-open' ? opened[1]!.streamId : -1;
    expect(r.received.get(dataStream)?.equals(payload)).toBe(true);
    expect(r.spdyKinds).toContain('syn_stream');
  });
});
