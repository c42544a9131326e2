/**
 * Records the fixtures in fixtures/: real clients (kubectl 1.27 and 1.33,
 * python3-kubernetes) against `kubewire serve` on loopback, captured with
 * tcpdump (pcap) or dumpcap (pcapng), each with `<name>.truth.json` computed
 * from what this script sent and what the server was told to do.
 *
 *   npm run fixtures                 # all of them
 *   npm run fixtures -- k127-exec    # only the named ones (and their cuts)
 *
 * Needs root (capturing on lo), tcpdump, dumpcap, editcap and tshark
 * (Wireshark's command-line package), the versioned kubectl binaries beside
 * kubectl on PATH, and /usr/bin/python3 with the kubernetes package.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServe, statusJson, type ServeOptions } from '../src/serve/index.js';
import { generateSelfSigned as generateServeCert } from '../src/serve/tls.js';
import { kubectlBinary, runKubectl, type KubectlResult } from '../test/helpers/kubectl.js';
import { sanitizePcapng } from './fixtures/pcapng-sanitize.js';
import { captureUnavailable, findTool, sleep, withCapture, type CaptureFormat } from './fixtures/capture.js';
import { NONE, deterministicBytes, dir, sha256, type FixtureTruth, type SessionTruth, type StreamTruth } from './fixtures/truth.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURES = resolve(HERE, '..', 'fixtures');
const PYTHON_WITH_KUBERNETES = '/usr/bin/python3';

interface Run {
  serveUrl: string;
  kubeconfig: string;
  /** Lines the server logged (the negotiated protocol is read from them). */
  log: string[];
  work: string;
}

type Result = Omit<FixtureTruth, 'name' | 'format' | 'capturedWith' | 'midSession' | 'description'>;

interface FixtureSpec {
  name: string;
  format: CaptureFormat;
  description: string;
  serve?: ServeOptions;
  run(r: Run): Promise<Result>;
  /** Also write `<name>-midsession`, cut after the upgrade (see cutMidSession). */
  midSession?: 'spdy' | 'websocket';
  /** Put a front in between that refuses WebSocket upgrades, as an older API server does. */
  refuseWebSocket?: boolean;
  /** A subfolder of fixtures/ (TLS fixtures live in fixtures/tls with their key logs, apart from the plaintext ones). */
  folder?: string;
}

// ---------------------------------------------------------------- helpers

function kubectl(version: string): string {
  const bin = kubectlBinary(version);
  if (!bin) throw new Error(`kubectl.${version} not found beside kubectl on PATH`);
  return bin;
}

function negotiated(log: string[], sub: string): { transport: SessionTruth['transport']; protocol: string } {
  for (const line of log) {
    const m = /^(spdy|websocket) (\w+) \S+ \((.*)\)$/.exec(line);
    if (!m || m[2] !== sub) continue;
    const protocol = m[3]!;
    if (m[1] === 'spdy') return { transport: 'spdy/3.1', protocol };
    return { transport: protocol.startsWith('SPDY/3.1+') ? 'websocket+spdy/3.1' : 'websocket', protocol };
  }
  throw new Error(`the server logged no ${sub} upgrade: ${log.join(' | ')}`);
}

function check(what: string, got: Uint8Array | string, want: Uint8Array | string): void {
  const g = Buffer.from(got);
  const w = Buffer.from(want);
  if (!g.equals(w)) throw new Error(`${what}: client saw ${JSON.stringify(g.toString('latin1').slice(0, 200))}, expected ${JSON.stringify(w.toString('latin1').slice(0, 200))}`);
}

function processTruth(r: KubectlResult): FixtureTruth['clientProcess'] {
  return { exitCode: r.code, stdoutSha256: sha256(r.stdout), stderr: r.stderr.toString('utf8') };
}

/** The WebSocket channel of a role in the v4/v5 channel protocols. */
const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4 } as const;

function execStreams(
  transport: SessionTruth['transport'],
  s: { stdin?: Uint8Array | string; stdout?: Uint8Array | string; stderr?: Uint8Array | string; resize?: string; status: string },
): StreamTruth[] {
  const ws = transport === 'websocket';
  const one = (role: StreamTruth['role'], c2s: Uint8Array | string | undefined, s2c: Uint8Array | string | undefined): StreamTruth => ({
    role,
    ...(ws && role in CHANNEL ? { channel: CHANNEL[role as keyof typeof CHANNEL] } : {}),
    clientToServer: c2s === undefined ? NONE : dir(c2s),
    serverToClient: s2c === undefined ? NONE : dir(s2c),
  });
  const out: StreamTruth[] = [one('error', undefined, s.status)];
  if (s.stdin !== undefined) out.push(one('stdin', s.stdin, undefined));
  if (s.stdout !== undefined) out.push(one('stdout', undefined, s.stdout));
  if (s.stderr !== undefined) out.push(one('stderr', undefined, s.stderr));
  if (s.resize !== undefined) out.push(one('resize', s.resize, undefined));
  return out;
}

/** The metav1.Status the server sends on the error stream, as `kubewire serve` writes it. */
async function statusBytes(code: number): Promise<string> {
  return statusJson({ kind: 'exit', code });
}

/** The truth of a session without a TTY: its streams' bytes and its exit code. */
async function plainSession(
  kind: 'exec' | 'attach',
  log: string[],
  bytes: { stdin?: Uint8Array | string; stdout?: Uint8Array | string; stderr?: Uint8Array | string },
  code: number,
): Promise<SessionTruth> {
  const neg = negotiated(log, kind);
  return {
    kind,
    ...neg,
    tty: false,
    streams: execStreams(neg.transport, { ...bytes, status: await statusBytes(code) }),
    resizes: [],
    exit: { status: code === 0 ? 'Success' : 'Failure', code },
  };
}

// ---------------------------------------------------------------- exec

const EXEC_STDIN = 'hello from kubewire\nsecond line\n\u00e9t\u00e9 \u2603 utf-8\n';
const EXEC_COMMAND = ['sh', '-c', 'cat; printf "to stderr\\n" >&2'];

function execFixture(name: string, format: CaptureFormat, version: string, env: Record<string, string> = {}, label = `kubectl ${version}`): FixtureSpec {
  return {
    name,
    format,
    description: `${label} exec -i -- ${EXEC_COMMAND.join(' ')}: stdin echoed on stdout, a line on stderr, exit 0`,
    async run(r) {
      const res = await runKubectl(kubectl(version), ['exec', '-i', 'p', '--', ...EXEC_COMMAND], { kubeconfig: r.kubeconfig, stdin: EXEC_STDIN, env });
      check('stdout', res.stdout, EXEC_STDIN);
      check('stderr', res.stderr, 'to stderr\n');
      return {
        client: label,
        clientProcess: processTruth(res),
        sessions: [await plainSession('exec', r.log, { stdin: EXEC_STDIN, stdout: EXEC_STDIN, stderr: 'to stderr\n' }, 0)],
      };
    },
  };
}

function exitFixture(name: string, format: CaptureFormat, version: string): FixtureSpec {
  const command = ['sh', '-c', 'echo out; echo err >&2; exit 3'];
  return {
    name,
    format,
    description: `kubectl ${version} exec (no stdin) -- ${command.join(' ')}: exit code 3`,
    async run(r) {
      const res = await runKubectl(kubectl(version), ['exec', 'p', '--', ...command], { kubeconfig: r.kubeconfig });
      check('stdout', res.stdout, 'out\n');
      if (res.code !== 3) throw new Error(`kubectl exited ${res.code}, expected 3`);
      return {
        client: `kubectl ${version}`,
        clientProcess: processTruth(res),
        sessions: [await plainSession('exec', r.log, { stdout: 'out\n', stderr: 'err\n' }, 3)],
      };
    },
  };
}

function transferFixture(name: string, format: CaptureFormat, version: string, size: number): FixtureSpec {
  const data = deterministicBytes(size);
  return {
    name,
    format,
    description: `kubectl ${version} exec -i -- cat with ${size} bytes of deterministic stdin, echoed`,
    async run(r) {
      const res = await runKubectl(kubectl(version), ['exec', '-i', 'p', '--', 'cat'], { kubeconfig: r.kubeconfig, stdin: data, timeoutMs: 60_000 });
      check('stdout', res.stdout, data);
      return {
        client: `kubectl ${version}`,
        clientProcess: processTruth(res),
        sessions: [await plainSession('exec', r.log, { stdin: data, stdout: data, stderr: '' }, 0)],
      };
    },
  };
}

// ---------------------------------------------------------------- TTY

function ttyFixture(name: string, format: CaptureFormat, version: string): FixtureSpec {
  const command = ['sh', '-c', 'echo ready; read a; echo "got $a"; read b; echo "got $b"'];
  const sizes: Array<[number, number]> = [
    [80, 24],
    [120, 40],
    [100, 30],
  ];
  const stdin = 'one\rtwo\r';
  return {
    name,
    format,
    description: `kubectl ${version} exec -it on a terminal of ${sizes.map(([c, r]) => `${c}x${r}`).join(', then ')} -- ${command.join(' ')}`,
    async run(r) {
      const cache = mkdtempSync(join(r.work, 'cache-'));
      const spec = {
        argv: [kubectl(version), '--kubeconfig', r.kubeconfig, '--cache-dir', cache, 'exec', '-it', 'p', '--', ...command],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cache, TERM: 'xterm' },
        size: sizes[0],
        timeout: 30,
        steps: [
          { wait: 'ready' },
          { resize: sizes[1] },
          { sleep: 0.5 },
          { write: 'one\r' },
          { wait: 'got one' },
          { resize: sizes[2] },
          { sleep: 0.5 },
          { write: 'two\r' },
          { wait: 'got two' },
        ],
      };
      const specFile = join(r.work, `${name}.pty.json`);
      const outFile = join(r.work, `${name}.pty.out`);
      writeFileSync(specFile, JSON.stringify(spec));
      const code = await runProcess('python3', [join(HERE, 'fixtures', 'pty-driver.py'), specFile, outFile], 40_000);
      const terminal = readFileSync(outFile);
      if (code !== 0) throw new Error(`kubectl -it exited ${code}: ${terminal.toString('latin1')}`);
      if (!terminal.includes('got two')) throw new Error(`terminal output lacks the second answer: ${terminal.toString('latin1')}`);
      const neg = negotiated(r.log, 'exec');
      const resize = sizes.map(([w, h]) => `${JSON.stringify({ Width: w, Height: h })}\n`).join('');
      const streams = execStreams(neg.transport, { stdin, stdout: terminal, resize, status: await statusBytes(0) });
      // With a TTY the terminal's echo and line discipline shape stdout: its bytes are what kubectl wrote to its terminal.
      streams.find((s) => s.role === 'stdout')!.source = 'observed: what the client wrote to its terminal';
      return {
        client: `kubectl ${version}`,
        clientProcess: { exitCode: code, stdoutSha256: sha256(terminal), stderr: '' },
        sessions: [
          {
            kind: 'exec',
            ...neg,
            tty: true,
            streams,
            resizes: sizes.map(([width, height]) => ({ width, height })),
            exit: { status: 'Success', code: 0 },
          },
        ],
      };
    },
  };
}

function runProcess(cmd: string, args: string[], timeoutMs: number): Promise<number | null> {
  return new Promise((resolveP, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveP(code);
    });
  });
}

// ---------------------------------------------------------------- attach

function attachFixture(name: string, format: CaptureFormat, version: string): FixtureSpec {
  const stdin = 'attached input\n';
  return {
    name,
    format,
    serve: { attachCommand: ['sh', '-c', 'cat; echo attach-done >&2'] },
    description: `kubectl ${version} attach -i to a process running sh -c 'cat; echo attach-done >&2'`,
    async run(r) {
      const res = await runKubectl(kubectl(version), ['attach', '-i', 'p'], { kubeconfig: r.kubeconfig, stdin });
      check('stdout', res.stdout, stdin);
      return {
        client: `kubectl ${version}`,
        clientProcess: processTruth(res),
        sessions: [await plainSession('attach', r.log, { stdin, stdout: stdin, stderr: 'attach-done\n' }, 0)],
      };
    },
  };
}

// ---------------------------------------------------------------- port-forward

async function echoServer(): Promise<Server> {
  const server = createServer((sock) => sock.pipe(sock));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

/** Send `data` through the forwarded port and wait for all of it to come back. */
function echoThrough(port: number, data: Buffer): Promise<Buffer> {
  return new Promise((resolveP, reject) => {
    const sock = connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    let n = 0;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`port-forward echo timed out after ${n} of ${data.length} bytes`));
    }, 15_000);
    sock.on('data', (d: Buffer) => {
      got.push(d);
      n += d.length;
      if (n >= data.length) {
        clearTimeout(timer);
        sock.end();
        resolveP(Buffer.concat(got));
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.write(data);
  });
}

function portForwardFixture(name: string, format: CaptureFormat, version: string): FixtureSpec {
  const payloads = [Buffer.from('first local connection: ping\n'), deterministicBytes(20_000, 7)];
  return {
    name,
    format,
    description: `kubectl ${version} port-forward; two local connections, each echoed by a TCP echo server behind the pod port`,
    async run(r) {
      const echo = await echoServer();
      const remotePort = (echo.address() as AddressInfo).port;
      try {
        let child: ReturnType<typeof spawn> | null = null;
        let localPort = 0;
        let done: Promise<KubectlResult> | null = null;
        const ready = new Promise<void>((resolveP, reject) => {
          const timer = setTimeout(() => reject(new Error('kubectl port-forward did not start')), 20_000);
          const onSpawn = (c: ReturnType<typeof spawn>) => {
            child = c;
            let text = '';
            c.stdout!.on('data', (d: Buffer) => {
              text += d.toString();
              const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(text);
              if (m && !localPort) {
                localPort = Number(m[1]);
                clearTimeout(timer);
                resolveP();
              }
            });
          };
          done = runKubectl(kubectl(version), ['port-forward', 'p', `:${remotePort}`, '--address', '127.0.0.1'], {
            kubeconfig: r.kubeconfig,
            timeoutMs: 60_000,
            onSpawn,
          });
          done.catch(reject);
        });
        await ready;
        for (const p of payloads) check('echo', await echoThrough(localPort, p), p);
        await sleep(300);
        (child as ReturnType<typeof spawn> | null)?.kill('SIGINT');
        const res = await done!;
        const neg = negotiated(r.log, 'portforward');
        const streams: StreamTruth[] = [];
        payloads.forEach((p, i) => {
          streams.push({ role: 'error', port: remotePort, requestId: String(i), clientToServer: NONE, serverToClient: NONE });
          streams.push({ role: 'data', port: remotePort, requestId: String(i), clientToServer: dir(p), serverToClient: dir(p) });
        });
        return {
          client: `kubectl ${version}`,
          clientProcess: processTruth(res),
          sessions: [{ kind: 'portforward', ...neg, tty: false, streams, resizes: [], exit: null }],
        };
      } finally {
        echo.close();
      }
    },
  };
}

// ---------------------------------------------------------------- python3-kubernetes

const PYTHON_TOKEN = 'kubewire-fixture-secret-token-9f8e7d';

function pythonFixture(name: string, format: CaptureFormat): FixtureSpec {
  const stdin = 'from python3-kubernetes\nline two\n';
  const command = ['sh', '-c', `head -c ${Buffer.byteLength(stdin)}; echo py-err >&2`];
  return {
    name,
    format,
    // Plain HTTP so that the capture shows the Authorization header a decoder must redact.
    serve: { token: PYTHON_TOKEN, tls: false },
    description: `python3-kubernetes exec (bearer token) -- ${command.join(' ')}: stdin as BINARY frames, echoed`,
    async run(r) {
      const stdinFile = join(r.work, `${name}.stdin`);
      writeFileSync(stdinFile, stdin);
      const out = await new Promise<string>((resolveP, reject) => {
        const child = spawn(PYTHON_WITH_KUBERNETES, [join(HERE, 'fixtures', 'python-exec.py'), r.serveUrl, PYTHON_TOKEN, stdinFile, ...command], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let text = '';
        const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
        child.stdout.on('data', (d: Buffer) => (text += d.toString()));
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          if (code === 0) resolveP(text);
          else reject(new Error(`python exec failed (${code}): ${text}`));
        });
      });
      const res = JSON.parse(out.trim().split('\n').pop()!) as { stdout: string; stderr: string; returncode: number | null };
      check('stdout', Buffer.from(res.stdout, 'hex'), stdin);
      check('stderr', Buffer.from(res.stderr, 'hex'), 'py-err\n');
      return {
        client: 'python3-kubernetes',
        secret: PYTHON_TOKEN,
        clientProcess: { exitCode: res.returncode, stdoutSha256: sha256(Buffer.from(res.stdout, 'hex')), stderr: 'py-err\n' },
        sessions: [await plainSession('exec', r.log, { stdin, stdout: stdin, stderr: 'py-err\n' }, 0)],
      };
    },
  };
}

// ---------------------------------------------------------------- TLS, with the clients' own key logs

const TLS_STDIN = 'over TLS, from a real client\n' + deterministicBytes(3000, 0x746c73).toString('hex') + '\n';
const TLS_COMMAND = ['sh', '-c', `head -c ${Buffer.byteLength(TLS_STDIN)}; echo tls-err >&2`];

/** Where a TLS fixture's key log goes (committed beside its capture: the tests decrypt with it). */
function keylogPath(name: string): string {
  return join(FIXTURES, 'tls', `${name}.keylog.txt`);
}

/** python3-kubernetes exec over HTTPS (WebSocket), secrets logged through SSLKEYLOGFILE. */
function pythonTlsFixture(name: string): FixtureSpec {
  const material = generateServeCert('127.0.0.1');
  return {
    name,
    format: 'pcapng',
    folder: 'tls',
    serve: { token: PYTHON_TOKEN, tls: material },
    description: `python3-kubernetes exec over TLS (SSLKEYLOGFILE) -- ${TLS_COMMAND.join(' ')}: stdin echoed`,
    async run(r) {
      const stdinFile = join(r.work, `${name}.stdin`);
      writeFileSync(stdinFile, TLS_STDIN);
      const caFile = join(r.work, `${name}.ca.pem`);
      writeFileSync(caFile, material.cert);
      rmSync(keylogPath(name), { force: true });
      const out = await runForJson(PYTHON_WITH_KUBERNETES, [join(HERE, 'fixtures', 'python-exec.py'), r.serveUrl, PYTHON_TOKEN, stdinFile, ...TLS_COMMAND], {
        SSLKEYLOGFILE: keylogPath(name),
        KUBEWIRE_CA_FILE: caFile,
      });
      const res = out as { stdout: string; stderr: string; returncode: number | null };
      check('stdout', Buffer.from(res.stdout, 'hex'), TLS_STDIN);
      check('stderr', Buffer.from(res.stderr, 'hex'), 'tls-err\n');
      return {
        client: 'python3-kubernetes (SSLKEYLOGFILE)',
        secret: PYTHON_TOKEN,
        tlsKeylog: `${name}.keylog.txt`,
        clientProcess: { exitCode: res.returncode, stdoutSha256: sha256(Buffer.from(res.stdout, 'hex')), stderr: 'tls-err\n' },
        sessions: [await plainSession('exec', r.log, { stdin: TLS_STDIN, stdout: TLS_STDIN, stderr: 'tls-err\n' }, 0)],
      };
    },
  };
}

/** @kubernetes/client-node exec over HTTPS (WebSocket; it has no SPDY), secrets logged by `node --tls-keylog`. */
function clientNodeTlsFixture(name: string): FixtureSpec {
  return {
    name,
    format: 'pcapng',
    folder: 'tls',
    serve: { tls: true },
    description: `@kubernetes/client-node exec over TLS (node --tls-keylog) -- ${TLS_COMMAND.join(' ')}: stdin echoed`,
    async run(r) {
      const stdinFile = join(r.work, `${name}.stdin`);
      writeFileSync(stdinFile, TLS_STDIN);
      rmSync(keylogPath(name), { force: true });
      const res = (await runForJson(process.execPath, [`--tls-keylog=${keylogPath(name)}`, '--import', 'tsx', join(HERE, 'fixtures', 'client-node-exec.ts'), r.kubeconfig, stdinFile, ...TLS_COMMAND], {})) as {
        stdout: string;
        stderr: string;
        status: { status?: string } | null;
      };
      check('stdout', Buffer.from(res.stdout, 'hex'), TLS_STDIN);
      check('stderr', Buffer.from(res.stderr, 'hex'), 'tls-err\n');
      return {
        client: '@kubernetes/client-node (node --tls-keylog)',
        tlsKeylog: `${name}.keylog.txt`,
        clientProcess: { exitCode: res.status?.status === 'Success' ? 0 : null, stdoutSha256: sha256(Buffer.from(res.stdout, 'hex')), stderr: 'tls-err\n' },
        sessions: [await plainSession('exec', r.log, { stdin: TLS_STDIN, stdout: TLS_STDIN, stderr: 'tls-err\n' }, 0)],
      };
    },
  };
}

/** Run a helper that prints one JSON line last; its parsed value. */
function runForJson(cmd: string, args: string[], env: Record<string, string>): Promise<unknown> {
  return new Promise((resolveP, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    let text = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolveP(JSON.parse(text.trim().split('\n').pop()!));
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${text}`));
    });
  });
}

// ---------------------------------------------------------------- a front that refuses WebSocket

const WEBSOCKET_REFUSAL_STATUS = JSON.stringify({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: 'upgrade to websocket is not supported here',
  reason: 'BadRequest',
  code: 400,
});

/**
 * A TCP front for `kubewire serve` that answers a WebSocket upgrade with 400
 * and a metav1.Status (what an API server without WebSocket support does), and
 * passes every other connection through untouched. kubectl 1.30+ then retries
 * over SPDY on a new connection. Each upgrade has a connection of its own, so
 * looking at a connection's first request head is enough.
 */
async function webSocketRefuser(target: number): Promise<Server> {
  const server = createServer((client) => {
    let head = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0 && head.length < 65536) return;
      client.off('data', onData);
      client.pause();
      const text = head.subarray(0, end < 0 ? head.length : end).toString('latin1');
      if (/^upgrade:\s*websocket\s*$/im.test(text)) {
        client.end(
          `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(WEBSOCKET_REFUSAL_STATUS)}\r\n` +
            `Connection: close\r\n\r\n${WEBSOCKET_REFUSAL_STATUS}`,
        );
        return;
      }
      const upstream = connect(target, '127.0.0.1', () => {
        upstream.write(head);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    };
    client.on('data', onData);
    client.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

// ---------------------------------------------------------------- mid-session cuts

/** Run tshark and return the frame numbers matching a display filter. */
function tsharkFrames(file: string, filter: string): Promise<number[]> {
  const tshark = findTool('tshark');
  if (!tshark) throw new Error('tshark is not installed');
  return new Promise((resolveP, reject) => {
    const child = spawn(tshark, ['-r', file, '-Y', filter, '-T', 'fields', '-e', 'frame.number'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolveP(text.split('\n').filter(Boolean).map(Number)));
  });
}

/**
 * A capture that begins after the upgrade. WebSocket: from the first packet
 * after the 101. SPDY: from the first packet after the first SYN_REPLY, so
 * the later SYN_STREAM header blocks cannot be inflated (their zlib context
 * began in a block the capture lacks) and roles must be inferred; no DATA
 * frame has been sent yet, so every stream byte is still in the cut.
 */
async function cutMidSession(from: string, to: string, how: 'spdy' | 'websocket'): Promise<void> {
  const editcap = findTool('editcap');
  if (!editcap) throw new Error('editcap is not installed');
  const upgraded = (await tsharkFrames(from, 'http.response.code == 101'))[0];
  if (upgraded === undefined) throw new Error(`${from}: no 101 response`);
  let after = upgraded;
  if (how === 'spdy') {
    const replies = (await tsharkFrames(from, 'spdy.type == 2')).filter((n) => n > upgraded);
    if (replies[0] === undefined) throw new Error(`${from}: no SYN_REPLY after the upgrade`);
    after = replies[0];
  }
  const format = to.endsWith('.pcapng') ? 'pcapng' : 'pcap';
  // editcap -r keeps the listed packets.
  const code = await runProcess(editcap, ['-F', format, '-r', from, to, `${after + 1}-1000000`], 30_000);
  if (code !== 0) throw new Error(`editcap failed (${code})`);
}

// ---------------------------------------------------------------- the list

const FIXTURE_SPECS: FixtureSpec[] = [
  { ...execFixture('k127-exec', 'pcap', '1.27'), midSession: 'spdy' },
  { ...execFixture('k133-exec-ws', 'pcapng', '1.33'), midSession: 'websocket' },
  execFixture('k133-exec-spdy', 'pcap', '1.33', { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' }, 'kubectl 1.33 (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false)'),
  {
    ...execFixture('k133-exec-ws-refused', 'pcapng', '1.33', {}, 'kubectl 1.33 (WebSocket refused with 400, retried over SPDY)'),
    refuseWebSocket: true,
  },
  exitFixture('k127-exec-exit3', 'pcapng', '1.27'),
  exitFixture('k133-exec-exit3', 'pcap', '1.33'),
  ttyFixture('k127-exec-tty', 'pcap', '1.27'),
  ttyFixture('k133-exec-tty', 'pcapng', '1.33'),
  attachFixture('k127-attach', 'pcap', '1.27'),
  portForwardFixture('k127-portforward', 'pcap', '1.27'),
  portForwardFixture('k130-portforward', 'pcapng', '1.30'),
  portForwardFixture('k133-portforward-tunnel', 'pcapng', '1.33'),
  pythonFixture('python-exec', 'pcapng'),
  transferFixture('k127-transfer-2mib', 'pcap', '1.27', 2 * 1024 * 1024),
  pythonTlsFixture('python-exec-tls'),
  clientNodeTlsFixture('client-node-exec-tls'),
];

async function makeFixture(spec: FixtureSpec, work: string): Promise<void> {
  const log: string[] = [];
  const serve = await startServe({ ...spec.serve, log: (l) => log.push(l) });
  const front = spec.refuseWebSocket ? await webSocketRefuser(serve.port) : null;
  const port = front ? (front.address() as AddressInfo).port : serve.port;
  const url = serve.url.replace(`:${serve.port}`, `:${port}`);
  const kubeconfig = join(work, `${spec.name}.kubeconfig`);
  writeFileSync(kubeconfig, serve.kubeconfig.replace(serve.url, url));
  const folder = spec.folder ? join(FIXTURES, spec.folder) : FIXTURES;
  mkdirSync(folder, { recursive: true });
  const file = join(folder, `${spec.name}.${spec.format}`);
  rmSync(file, { force: true });
  let result: Result;
  try {
    result = await withCapture({ port, file, format: spec.format }, () => spec.run({ serveUrl: url, kubeconfig, log, work }));
  } finally {
    front?.close();
    await serve.close();
  }
  if (spec.format === 'pcapng') sanitizePcapng(file);
  const truth: FixtureTruth = {
    name: spec.name,
    description: spec.description,
    format: spec.format,
    capturedWith: spec.format === 'pcap' ? 'tcpdump' : 'dumpcap',
    midSession: false,
    ...result,
  };
  writeFileSync(join(folder, `${spec.name}.truth.json`), JSON.stringify(truth, null, 2) + '\n');
  process.stdout.write(`  ${spec.name}.${spec.format}: ${readFileSync(file).length} bytes\n`);
  if (spec.midSession) {
    const cutName = `${spec.name}-midsession`;
    const cutFile = join(FIXTURES, `${cutName}.${spec.format}`);
    await cutMidSession(file, cutFile, spec.midSession);
    if (spec.format === 'pcapng') sanitizePcapng(cutFile);
    const cutTruth: FixtureTruth = {
      ...truth,
      name: cutName,
      description: `${spec.description}; cut after the upgrade${spec.midSession === 'spdy' ? ' and the first SYN_REPLY' : ''} (a capture joined mid-session)`,
      capturedWith: 'editcap',
      midSession: true,
    };
    writeFileSync(join(FIXTURES, `${cutName}.truth.json`), JSON.stringify(cutTruth, null, 2) + '\n');
    process.stdout.write(`  ${cutName}.${spec.format}: ${readFileSync(cutFile).length} bytes\n`);
  }
}

async function main(): Promise<void> {
  for (const f of ['pcap', 'pcapng'] as const) {
    const why = captureUnavailable(f);
    if (why) throw new Error(`cannot record fixtures: ${why}`);
  }
  const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const specs = only.length ? FIXTURE_SPECS.filter((s) => only.includes(s.name)) : FIXTURE_SPECS;
  if (specs.length === 0) throw new Error(`no fixture named ${only.join(', ')}; known: ${FIXTURE_SPECS.map((s) => s.name).join(', ')}`);
  mkdirSync(FIXTURES, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'kubewire-fixtures-'));
  try {
    for (const spec of specs) {
      process.stdout.write(`${spec.name}: ${spec.description}\n`);
      await makeFixture(spec, work);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`make-fixtures: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
