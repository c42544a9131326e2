/**
 * Real kubectl 1.27 against a local listener: it upgrades to SPDY/3.1 and
 * opens its exec streams one at a time, each after the previous SYN_REPLY.
 * Our decoder reads every byte it sends; our encoder writes every byte it
 * reads back (SYN_REPLYs, stdout, the v4 status on the error stream), so
 * kubectl's spdystream is also a Go peer accepting our header blocks.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleApiRequest } from '../../src/serve/fake-api.js';
import { SpdyFrameDecoder, SpdyFrameEncoder, type SpdyFrame } from '../../src/spdy/index.js';
import { kubectlBinary, runKubectl, writeKubeconfig } from '../helpers/kubectl.js';

const KUBECTL = kubectlBinary('1.27');
if (!KUBECTL) console.warn('kubectl.1.27 not found beside kubectl on PATH: skipping the real-kubectl SPDY test');

interface Session {
  frames: SpdyFrame[];
  diagnostics: string[];
  stdin: string;
  upgradeHeaders: Record<string, string | string[] | undefined>;
}

const STDOUT_TEXT = 'hello from the fake container\n';

function serveExec(session: Session, socket: Socket): void {
  socket.setNoDelay(true);
  const dec = new SpdyFrameDecoder({ direction: 'clientToServer', mode: 'inspect' });
  const enc = new SpdyFrameEncoder();
  const ids = new Map<string, number>();
  let finished = false;
  const send = (...frames: Parameters<SpdyFrameEncoder['encode']>[0][]) => {
    if (!socket.destroyed) for (const f of frames) socket.write(enc.encode(f));
  };
  const finish = () => {
    if (finished) return;
    finished = true;
    send(
      { kind: 'data', streamId: ids.get('stdout')!, data: Buffer.from(STDOUT_TEXT) },
      { kind: 'data', streamId: ids.get('stdout')!, fin: true, data: new Uint8Array(0) },
      { kind: 'data', streamId: ids.get('stderr')!, fin: true, data: new Uint8Array(0) },
      { kind: 'data', streamId: ids.get('error')!, data: Buffer.from('{"metadata":{},"status":"Success"}') },
      { kind: 'data', streamId: ids.get('error')!, fin: true, data: new Uint8Array(0) },
    );
  };
  const allOpen = () => ['error', 'stdin', 'stdout', 'stderr'].every((t) => ids.has(t));
  let fallback: NodeJS.Timeout | undefined;
  socket.on('data', (chunk: Buffer) => {
    for (const ev of dec.push(chunk)) {
      if (ev.kind === 'diagnostic') {
        session.diagnostics.push(ev.error.code);
        continue;
      }
      session.frames.push(ev.kind === 'data' ? { ...ev, data: ev.data.slice() } : ev);
      if (ev.kind === 'syn_stream') {
        const type = ev.headers?.find(([n]) => n === 'streamtype')?.[1];
        if (type) ids.set(type, ev.streamId);
        // Kubernetes replies with an empty block; a header makes spdystream (Go) inflate real
        // content through our one deflate context, block after block.
        send({ kind: 'syn_reply', streamId: ev.streamId, headers: [['x-kubewire-reply', `stream ${ev.streamId}`]] });
        if (allOpen()) fallback = setTimeout(finish, 3000);
      } else if (ev.kind === 'data' && ev.streamId === ids.get('stdin')) {
        session.stdin += Buffer.from(ev.data).toString();
        if (ev.fin && allOpen()) finish();
      }
    }
  });
  socket.on('error', () => {});
  socket.on('close', () => clearTimeout(fallback));
}

describe.skipIf(!KUBECTL)('real kubectl 1.27 over SPDY/3.1', () => {
  let server: Server;
  let port: number;
  const sessions: Session[] = [];
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    server = createServer((req, res) => handleApiRequest(req, res));
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    server.on('upgrade', (req, socket: Socket) => {
      const session: Session = { frames: [], diagnostics: [], stdin: '', upgradeHeaders: req.headers };
      sessions.push(session);
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n',
      );
      serveExec(session, socket);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('decodes the SYN_STREAMs kubectl exec sends and their streamtype headers', async () => {
    const kubeconfig = writeKubeconfig(`http://127.0.0.1:${port}`);
    const result = await runKubectl(KUBECTL!, ['exec', '-i', 'mypod', '--', 'cat'], {
      kubeconfig,
      stdin: 'typed into stdin\n',
      timeoutMs: 20_000,
    });
    expect(sessions).toHaveLength(1);
    const s = sessions[0]!;
    expect(s.upgradeHeaders.upgrade).toBe('SPDY/3.1');
    expect(s.diagnostics).toEqual([]);

    const syns = s.frames.filter((f): f is Extract<SpdyFrame, { kind: 'syn_stream' }> => f.kind === 'syn_stream');
    expect(syns.map((f) => f.headers!.find(([n]) => n === 'streamtype')?.[1])).toEqual(['error', 'stdin', 'stdout', 'stderr']);
    expect(syns.map((f) => f.streamId)).toEqual([1, 3, 5, 7]);
    for (const f of syns) {
      expect(f).toMatchObject({ priority: 0, slot: 0, associatedStreamId: 0, fin: false, unidirectional: false });
      // spdystream writes lower-case names; exec streams carry only streamtype.
      expect(f.headers!.map(([n]) => n)).toEqual(['streamtype']);
    }
    // The first block of the direction carries the zlib header with FDICT and the dictionary id.
    expect(Buffer.from(syns[0]!.headerBlock!.subarray(2, 6)).toString('hex')).toBe('e3c6a7c2');

    expect(s.stdin).toBe('typed into stdin\n');
    expect(result.stdout.toString()).toBe(STDOUT_TEXT);
    expect(result.code).toBe(0);
  }, 30_000);
});
