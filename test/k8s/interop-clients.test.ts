/**
 * Other real clients against a server built from our codecs:
 * Debian's python3-kubernetes (v4 exec, str stdin as TEXT frames) and
 * @kubernetes/client-node (exec and native WebSocket port-forward).
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Exec, KubeConfig, PortForward } from '@kubernetes/client-node';
import {
  PortForwardChannelDecoder,
  WEBSOCKET_PORT_FORWARD_PROTOCOLS,
  WEBSOCKET_REMOTE_COMMAND_PROTOCOLS,
  channelFrame,
  encodePortPrefix,
  type PortForwardChannelEvent,
} from '../../src/k8s/index.js';
import { startWsServer, until, type TestServer } from './helpers/ws-server.js';
import { serveExec, type ExecRecord } from './helpers/exec-handler.js';

const PYTHON = '/usr/bin/python3';
function pythonKubernetesMissing(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  try {
    execFileSync(PYTHON, ['-c', 'import kubernetes.stream'], { stdio: 'ignore', timeout: 20_000 });
  } catch {
    return 'python3-kubernetes is not installed for /usr/bin/python3';
  }
  return null;
}
const pyMissing = pythonKubernetesMissing();
if (pyMissing) console.warn(`skipping python3-kubernetes interop: ${pyMissing}`);

let server: TestServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

function supportedFor(path: string): readonly string[] {
  return path.endsWith('/portforward') ? WEBSOCKET_PORT_FORWARD_PROTOCOLS : WEBSOCKET_REMOTE_COMMAND_PROTOCOLS;
}

const PY_SCRIPT = `
import json, sys
from kubernetes import client
from kubernetes.stream import stream
cfg = client.Configuration()
cfg.host = sys.argv[1]
api = client.CoreV1Api(client.ApiClient(cfg))
resp = stream(api.connect_get_namespaced_pod_exec, 'web', 'default', command=['cat'],
              stdin=True, stdout=True, stderr=True, tty=False, _preload_content=False)
resp.write_stdin("hello \\u00e9\\n")
resp.write_stdin(b"\\x00\\xffEND\\n")
out, err = '', ''
while resp.is_open():
    resp.update(timeout=5)
    if resp.peek_stdout(): out += resp.read_stdout()
    if resp.peek_stderr(): err += resp.read_stderr()
print(json.dumps({'out': out, 'err': err, 'rc': resp.returncode}))
`;

describe.skipIf(pyMissing !== null)('python3-kubernetes (Debian) exec over WebSocket v4', () => {
  it('str stdin arrives as a TEXT frame and bytes as BINARY, both decoded to channel 0; exit code 3 reaches python', async () => {
    let record: ExecRecord | null = null;
    server = await startWsServer(supportedFor, (s) => {
      record = serveExec(s, { exitCode: 3, stdoutPrefix: 'out:', stderr: 'err\n' });
    });
    // Finish once the binary part has arrived.
    const url = server.url;
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(PYTHON, ['-c', PY_SCRIPT, url], { timeout: 30_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
    });
    const session = server.sessions[0]!;
    expect(session.offered.join(',')).toContain('v4.channel.k8s.io');
    expect(session.protocol).toBe('v4.channel.k8s.io');
    expect(session.problems).toEqual([]);
    const data = session.frames.filter((f) => f.kind === 'text' || f.kind === 'binary');
    expect(data.map((f) => [f.kind, Buffer.from(f.payload).toString('hex')])).toEqual([
      ['text', '00' + Buffer.from('hello é\n').toString('hex')],
      ['binary', '0000ff454e440a'],
    ]);
    const r = record as unknown as ExecRecord;
    expect(r.stdin.equals(Buffer.concat([Buffer.from('hello é\n'), Buffer.from([0x00, 0xff]), Buffer.from('END\n')]))).toBe(true);
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout) as { out: string; err: string; rc: number };
    expect(out.err).toBe('err\n');
    expect(out.rc).toBe(3);
    // The handler answered after the first line; python reads stdout as text.
    expect(out.out.startsWith('out:hello é\n')).toBe(true);
  });
});

const PY_PORTFORWARD = `
import json, sys, time
from kubernetes import client
from kubernetes.stream import portforward
cfg = client.Configuration()
cfg.host = sys.argv[1]
api = client.CoreV1Api(client.ApiClient(cfg))
pf = portforward(api.connect_get_namespaced_pod_portforward, 'web', 'default', ports='8080,9090')
result = {}
for port, payload in ((8080, b'hello-8080'), (9090, bytes(range(256)) * 40)):
    s = pf.socket(port)
    s.setblocking(True)
    s.sendall(payload)
    got = b''
    while len(got) < len(payload):
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    result[str(port)] = got == payload
deadline = time.time() + 10
while pf.error(9090) is None and time.time() < deadline:
    time.sleep(0.05)
result['error9090'] = pf.error(9090)
result['error8080'] = pf.error(8080)
for port in (8080, 9090):
    pf.socket(port).close()
print(json.dumps(result))
`;

describe.skipIf(pyMissing !== null)('python3-kubernetes (Debian) native WebSocket port-forward', () => {
  it('two ports: prefixes checked by the client, data channels echoed exactly, an error channel message delivered', async () => {
    const received = new Map<number, Buffer>();
    let problems: string[] = [];
    server = await startWsServer(supportedFor, (s) => {
      const ports = s.url.searchParams.getAll('ports').flatMap((v) => v.split(',')).map(Number);
      const decoder = new PortForwardChannelDecoder({ protocol: s.protocol, direction: 'clientToServer', ports, mode: 'inspect' });
      ports.forEach((port, i) => {
        s.send(s.enc.encode(channelFrame(2 * i, encodePortPrefix(port))));
        s.send(s.enc.encode(channelFrame(2 * i + 1, encodePortPrefix(port))));
      });
      let errorSent = false;
      s.onFrame = (f) => {
        if (f.kind !== 'binary') return;
        for (const ev of decoder.decode(f.payload, f.offset)) {
          if (ev.kind === 'diagnostic') problems.push(ev.error.code);
          if (ev.kind !== 'data') continue;
          received.set(ev.channel, Buffer.concat([received.get(ev.channel) ?? Buffer.alloc(0), ev.data]));
          s.send(s.enc.encode(channelFrame(ev.channel, ev.data.slice())));
          if (ev.pair === 1 && received.get(2)!.length >= 10240 && !errorSent) {
            errorSent = true;
            s.send(s.enc.encode(channelFrame(3, Buffer.from('error forwarding port 9090 to pod web: refused'))));
          }
        }
      };
    });
    const url = server.url;
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(PYTHON, ['-c', PY_PORTFORWARD, url], { timeout: 30_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
    });
    expect(result.code, result.stderr).toBe(0);
    const session = server.sessions[0]!;
    expect(session.protocol).toBe('v4.channel.k8s.io');
    expect(session.problems).toEqual([]);
    expect(problems).toEqual([]);
    expect(received.get(0)?.toString()).toBe('hello-8080');
    expect(received.get(2)?.equals(Buffer.concat(Array.from({ length: 40 }, () => Buffer.from(Array.from({ length: 256 }, (_, i) => i)))))).toBe(true);
    expect(JSON.parse(result.stdout)).toEqual({ '8080': true, '9090': true, error9090: 'error forwarding port 9090 to pod web: refused', error8080: null });
    problems = [];
  });
});

function kubeConfig(url: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'local', server: url, skipTLSVerify: true }],
    users: [{ name: 'local' }],
    contexts: [{ name: 'local', cluster: 'local', user: 'local' }],
    currentContext: 'local',
  });
  return kc;
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

describe('@kubernetes/client-node 1.4.0', () => {
  it('Exec (v5): stdin bytes, the close signal on end, stdout/stderr and the exit status', async () => {
    let record: ExecRecord | null = null;
    server = await startWsServer(supportedFor, (s) => {
      record = serveExec(s, { exitCode: 3 });
    });
    const stdout = collector();
    const stderr = collector();
    const stdin = new PassThrough();
    let status: unknown = null;
    await new Exec(kubeConfig(server.url)).exec('default', 'web', 'main', ['cat'], stdout.stream, stderr.stream, stdin, false, (s) => {
      status = s;
    });
    stdin.end('hello\n');
    await until(() => status !== null);
    const session = server.sessions[0]!;
    expect(session.offered.join(',')).toBe('v5.channel.k8s.io,v4.channel.k8s.io,v3.channel.k8s.io,v2.channel.k8s.io,channel.k8s.io');
    expect(session.protocol).toBe('v5.channel.k8s.io');
    expect(session.problems).toEqual([]);
    const data = session.frames.filter((f) => f.kind === 'binary');
    expect(data.map((f) => Buffer.from(f.payload).toString('hex'))).toEqual(['00' + Buffer.from('hello\n').toString('hex'), 'ff00']);
    const r = record as unknown as ExecRecord;
    expect(r.stdinClosed).toBe(true);
    await until(() => stdout.text() === 'out:hello\n' && stderr.text() === 'err\n');
    expect(status).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } });
  });

  it('PortForward (native WebSocket): port prefix stripped by the client, channel 0 bytes exact both ways', async () => {
    const received: PortForwardChannelEvent[] = [];
    server = await startWsServer(supportedFor, (s) => {
      const ports = s.url.searchParams.getAll('ports').map(Number);
      const decoder = new PortForwardChannelDecoder({ protocol: s.protocol, direction: 'clientToServer', ports, mode: 'inspect' });
      ports.forEach((port, i) => {
        s.send(s.enc.encode(channelFrame(2 * i, encodePortPrefix(port))));
        s.send(s.enc.encode(channelFrame(2 * i + 1, encodePortPrefix(port))));
      });
      s.onFrame = (f) => {
        if (f.kind !== 'binary') return;
        for (const ev of decoder.decode(f.payload, f.offset)) {
          received.push(ev);
          if (ev.kind === 'data') s.send(s.enc.encode(channelFrame(ev.channel, ev.data.slice())));
        }
      };
    });
    const output = collector();
    const errors = collector();
    const input = new PassThrough();
    const ws = (await new PortForward(kubeConfig(server.url)).portForward('default', 'web', [8080], output.stream, errors.stream, input)) as { close(): void };
    input.write('hello-port-forward');
    await until(() => output.text() === 'hello-port-forward');
    const session = server.sessions[0]!;
    expect(session.url.searchParams.getAll('ports')).toEqual(['8080']);
    expect(session.protocol).toBe('v4.channel.k8s.io');
    expect(received.map((e) => (e.kind === 'data' ? [e.channel, e.role, Buffer.from(e.data).toString()] : e.kind))).toEqual([[0, 'data', 'hello-port-forward']]);
    expect(errors.text()).toBe('');
    ws.close();
  });
});
