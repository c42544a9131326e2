/**
 * Fixtures from a real container runtime: the last hop of `kubectl exec`
 * and `port-forward` (kubelet → runtime), captured on loopback against
 * Debian's containerd 1.6 CRI streaming server (Kubernetes' own streaming
 * code, Go spdystream as the SPDY server), with a Go spdystream client that
 * opens streams in client-go's order (scripts/runtime/spdyclient.go).
 *
 *   npm run build && node --import tsx scripts/make-runtime-fixtures.ts [OUT_DIR]
 *
 * Needs root, containerd, runc, ctr, go, tcpdump, busybox-static and
 * golang-github-docker-spdystream-dev (Debian packages); without them it
 * prints why and exits 0 having written nothing. The truth files hold what
 * the client sent and what it received (its own JSON report), never what a
 * decoder read from the capture.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { withCapture, sleep } from './fixtures/capture.js';
import { NONE, deterministicBytes, dir, sha256, type FixtureTruth, type StreamTruth } from './fixtures/truth.js';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = resolve(process.argv[2] ?? join(ROOT, 'fixtures'));
const SPDYSTREAM_SRC = '/usr/share/gocode/src/github.com/moby/spdystream';
const GOPATH = '/usr/share/gocode';
const IMAGE = 'docker.io/kubewire/busybox:fixture';
const APPLETS = ['sh', 'cat', 'sleep', 'stty', 'echo', 'printf', 'wc', 'true', 'head'];

function which(name: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** Why the runtime fixtures cannot be made here, or null. */
function unavailable(): string | null {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return `containerd and tcpdump need root (uid ${process.getuid()})`;
  for (const tool of ['containerd', 'runc', 'ctr', 'go', 'tcpdump', 'tar']) if (!which(tool)) return `${tool} is not installed (Debian: containerd runc golang-go tcpdump)`;
  if (!existsSync('/bin/busybox')) return '/bin/busybox is not installed (Debian: busybox-static)';
  if (!existsSync(SPDYSTREAM_SRC)) return `Go spdystream is not installed at ${SPDYSTREAM_SRC} (Debian: golang-github-docker-spdystream-dev)`;
  if (!existsSync(join(ROOT, 'node_modules', '@grpc', 'grpc-js')) || !existsSync(join(ROOT, 'node_modules', '@grpc', 'proto-loader'))) return '@grpc/grpc-js and @grpc/proto-loader are not installed (npm ci)';
  return null;
}

function digestOf(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

/** An OCI image archive with busybox as every applet used, sleeping by default (it is also the sandbox image). */
function buildImage(work: string): string {
  const rootfs = join(work, 'rootfs');
  for (const d of ['bin', 'tmp', 'etc', 'proc', 'sys', 'dev']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  for (const a of APPLETS) symlinkSync('busybox', join(rootfs, 'bin', a));
  const layerFile = join(work, 'layer.tar');
  execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', rootfs, '-cf', layerFile, '.']);
  const layer = readFileSync(layerFile);
  const config = Buffer.from(
    JSON.stringify({
      architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/bin'], Cmd: ['/bin/sleep', '3600'] },
      rootfs: { type: 'layers', diff_ids: [digestOf(layer)] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digestOf(layer), size: layer.length }],
    }),
  );
  const oci = join(work, 'oci');
  mkdirSync(join(oci, 'blobs', 'sha256'), { recursive: true });
  for (const b of [layer, config, manifest]) writeFileSync(join(oci, 'blobs', 'sha256', digestOf(b).slice(7)), b);
  writeFileSync(join(oci, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(oci, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: digestOf(manifest),
          size: manifest.length,
          annotations: { 'io.containerd.image.name': IMAGE, 'org.opencontainers.image.ref.name': 'fixture' },
        },
      ],
    }),
  );
  const archive = join(work, 'image.tar');
  execFileSync('tar', ['-C', oci, '-cf', archive, '.']);
  return archive;
}

function startContainerd(work: string): { child: ChildProcess; socket: string } {
  const socket = join(work, 'containerd.sock');
  const config = join(work, 'containerd.toml');
  // restrict_oom_score_adj: containers here may lack CAP_SYS_RESOURCE; native snapshotter: no overlay on overlay
  writeFileSync(
    config,
    [
      'version = 2',
      `root = "${join(work, 'root')}"`,
      `state = "${join(work, 'state')}"`,
      '[grpc]',
      `  address = "${socket}"`,
      '[plugins."io.containerd.grpc.v1.cri"]',
      `  sandbox_image = "${IMAGE}"`,
      '  restrict_oom_score_adj = true',
      '  [plugins."io.containerd.grpc.v1.cri".containerd]',
      '    snapshotter = "native"',
      '  [plugins."io.containerd.grpc.v1.cri".cni]',
      `    bin_dir = "${join(work, 'cni-bin')}"`,
      `    conf_dir = "${join(work, 'cni-conf')}"`,
      '',
    ].join('\n'),
  );
  const child = spawn('containerd', ['--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20000)));
  child.on('exit', (code) => {
    if (code !== null && code !== 0) console.error(`containerd exited with ${code}:\n${log.slice(-2000)}`);
  });
  return { child, socket };
}

async function waitFor(what: string, ok: () => boolean, ms = 20000): Promise<void> {
  for (let t = 0; t < ms && !ok(); t += 100) await sleep(100);
  if (!ok()) throw new Error(`timed out waiting for ${what}`);
}

type Rpc = (method: string, req: object) => Promise<Record<string, unknown>>;

async function criClient(socket: string): Promise<{ call: Rpc; close(): void }> {
  const grpc = await import('@grpc/grpc-js');
  const loader = await import('@grpc/proto-loader');
  const def = loader.loadSync(join(ROOT, 'scripts', 'runtime', 'cri-subset.proto'), { keepCase: true, enums: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { runtime: { v1: { RuntimeService: new (addr: string, creds: unknown) => Record<string, unknown> & { close(): void } } } };
  const client = new pkg.runtime.v1.RuntimeService(`unix://${socket}`, grpc.credentials.createInsecure());
  const call: Rpc = (method, req) =>
    new Promise((res, rej) => {
      const fn = client[method] as (r: object, cb: (e: Error | null, v: Record<string, unknown>) => void) => void;
      fn.call(client, req, (e, v) => (e ? rej(new Error(`${method}: ${e.message}`)) : res(v)));
    });
  return { call, close: () => client.close() };
}

interface ClientReport {
  stdin?: { bytes: number; sha256: string };
  stdout?: { bytes: number; sha256: string };
  stderr?: { bytes: number; sha256: string; text?: string };
  status?: string;
  sent?: { bytes: number; sha256: string };
  received?: { bytes: number; sha256: string };
  error?: string;
}

function runClient(binary: string, args: string[]): Promise<ClientReport> {
  return new Promise((res, rej) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => (code === 0 ? res(JSON.parse(out) as ClientReport) : rej(new Error(`spdyclient ${args[0]} exited ${code}: ${err}`))));
  });
}

function port(url: string): number {
  return Number(new URL(url).port);
}

/** The exit the status document says (client-go: Success, or NonZeroExitCode with an ExitCode cause). */
function exitOf(status: string): { status: 'Success' | 'Failure'; code: number } {
  const st = JSON.parse(status) as { status: string; details?: { causes?: Array<{ reason: string; message: string }> } };
  if (st.status === 'Success') return { status: 'Success', code: 0 };
  const cause = st.details?.causes?.find((c) => c.reason === 'ExitCode');
  return { status: 'Failure', code: cause ? Number(cause.message) : -1 };
}

/** A pod on the host network (no CNI), no hostname set, with one sleeping busybox container. */
async function startPod(call: Rpc, work: string): Promise<{ pod: string; container: string }> {
  const sandboxConfig = {
    metadata: { name: 'kubewire-fixture', uid: 'kubewire-fixture-uid', namespace: 'default', attempt: 0 },
    log_directory: join(work, 'logs'),
    linux: { security_context: { namespace_options: { network: 'NODE', pid: 'POD', ipc: 'POD' } } },
  };
  const pod = String((await call('RunPodSandbox', { config: sandboxConfig })).pod_sandbox_id);
  const container = String(
    (
      await call('CreateContainer', {
        pod_sandbox_id: pod,
        config: { metadata: { name: 'main', attempt: 0 }, image: { image: IMAGE }, command: ['/bin/sleep', '3600'], log_path: 'main.log' },
        sandbox_config: sandboxConfig,
      })
    ).container_id,
  );
  await call('StartContainer', { container_id: container });
  return { pod, container };
}

async function main(): Promise<void> {
  const why = unavailable();
  if (why) {
    console.log(`skipping the runtime fixtures: ${why}`);
    return;
  }
  mkdirSync(OUT, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'kubewire-runtime-'));
  const spdyclient = join(work, 'spdyclient');
  execFileSync('go', ['build', '-o', spdyclient, join(ROOT, 'scripts', 'runtime', 'spdyclient.go')], {
    env: { ...process.env, GO111MODULE: 'off', GOPATH, GOCACHE: join(work, 'gocache'), GOFLAGS: '' },
    stdio: 'inherit',
  });
  const { child: containerd, socket } = startContainerd(work);
  const echo = createServer((s) => s.pipe(s));
  let cri: Awaited<ReturnType<typeof criClient>> | null = null;
  let sandbox: { pod: string; container: string } | null = null;
  try {
    try {
      await waitFor('containerd socket', () => existsSync(socket));
      execFileSync('ctr', ['-a', socket, '-n', 'k8s.io', 'images', 'import', '--no-unpack', buildImage(work)], { stdio: ['ignore', 'ignore', 'pipe'] });
      cri = await criClient(socket);
      sandbox = await startPod(cri.call, work);
    } catch (e) {
      console.log(`skipping the runtime fixtures: containerd cannot run a container here: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    const { pod, container } = sandbox;
    const written: string[] = [];

    const execFixture = async (name: string, description: string, cmd: string[], tty: boolean, stdin: Buffer, flags: string[]): Promise<void> => {
      const url = String((await cri!.call('Exec', { container_id: container, cmd, tty, stdin: true, stdout: true, stderr: !tty })).url);
      const input = join(work, `${name}.stdin`);
      writeFileSync(input, stdin);
      const file = join(OUT, `${name}.pcap`);
      const report = await withCapture({ port: port(url), file, format: 'pcap', bufferKiB: 16384 }, async () => {
        const r = await runClient(spdyclient, ['exec', url, input, ...(tty ? ['-tty'] : []), ...flags]);
        await sleep(300);
        return r;
      });
      const resizes = flags.flatMap((f, i) => (flags[i - 1] === '-resize' ? [f] : [])).map((r) => {
        const [width, height] = r.split('x').map(Number);
        return { width: width!, height: height! };
      });
      const streams: StreamTruth[] = [
        { role: 'error', clientToServer: NONE, serverToClient: dir(report.status ?? '') },
        { role: 'stdin', clientToServer: { bytes: report.stdin!.bytes, sha256: report.stdin!.sha256 }, serverToClient: NONE },
        {
          role: 'stdout',
          clientToServer: NONE,
          serverToClient: { bytes: report.stdout!.bytes, sha256: report.stdout!.sha256 },
          ...(tty ? { source: "the TTY's echo of stdin and the shell's output" } : {}),
        },
      ];
      if (tty) {
        const msgs = resizes.map((r) => JSON.stringify({ Height: r.height, Width: r.width }));
        streams.push({ role: 'resize', clientToServer: dir(msgs.join('')), serverToClient: NONE });
      } else streams.push({ role: 'stderr', clientToServer: NONE, serverToClient: { bytes: report.stderr!.bytes, sha256: report.stderr!.sha256 } });
      writeTruth(name, description, {
        kind: 'exec',
        transport: 'spdy/3.1',
        protocol: 'v4.channel.k8s.io',
        tty,
        streams,
        resizes,
        exit: report.status ? exitOf(report.status) : null,
      });
      written.push(file);
    };

    const writeTruth = (name: string, description: string, session: FixtureTruth['sessions'][number]): void => {
      const truth: FixtureTruth = {
        name,
        description,
        client: 'spdyclient (Go, moby/spdystream from Debian golang-github-docker-spdystream-dev, streams in client-go order)',
        format: 'pcap',
        capturedWith: 'tcpdump',
        midSession: false,
        sessions: [session],
      };
      writeFileSync(join(OUT, `${name}.truth.json`), JSON.stringify(truth, null, 2) + '\n');
    };

    await execFixture(
      'containerd-exec-stdin-256k',
      'containerd 1.6 CRI streaming server, exec -i -- cat with 256 KiB of stdin (past the 64 KiB SPDY windows both ways; neither spdystream side sends WINDOW_UPDATE)',
      ['/bin/cat'],
      false,
      deterministicBytes(256 * 1024, 0x72756e31),
      [],
    );
    await execFixture(
      'containerd-exec-tty-resize',
      'containerd 1.6 CRI streaming server, exec -it -- sh: a resize before each line (stty size), exit 3',
      ['/bin/sh'],
      true,
      Buffer.from('stty size\nstty size\nexit 3\n'),
      ['-lines', '-resize', '80x24', '-resize', '132x43', '-resize', '100x30'],
    );

    // port-forward: containerd dials the port inside the pod's network namespace (the host's here)
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const echoPort = (echo.address() as AddressInfo).port;
    const pfUrl = String((await cri!.call('PortForward', { pod_sandbox_id: pod, port: [echoPort] })).url);
    const payload = deterministicBytes(100 * 1024, 0x72756e32);
    const payloadFile = join(work, 'pf.payload');
    writeFileSync(payloadFile, payload);
    const pfName = 'containerd-portforward';
    const pfFile = join(OUT, `${pfName}.pcap`);
    const pf = await withCapture({ port: port(pfUrl), file: pfFile, format: 'pcap', bufferKiB: 16384 }, async () => {
      const r = await runClient(spdyclient, ['portforward', pfUrl, String(echoPort), payloadFile]);
      await sleep(300);
      return r;
    });
    if (pf.received!.sha256 !== sha256(payload)) throw new Error('port-forward: the echo came back different');
    writeTruth(pfName, 'containerd 1.6 CRI streaming server, port-forward of 100 KiB to a TCP echo server, echoed back', {
      kind: 'portforward',
      transport: 'spdy/3.1',
      protocol: 'portforward.k8s.io',
      tty: false,
      streams: [
        { role: 'error', port: echoPort, requestId: '0', clientToServer: NONE, serverToClient: dir(pf.error ?? '') },
        { role: 'data', port: echoPort, requestId: '0', clientToServer: dir(payload), serverToClient: { bytes: pf.received!.bytes, sha256: pf.received!.sha256 } },
      ],
      resizes: [],
      exit: null,
    });
    written.push(pfFile);
    for (const f of written) console.log(`wrote ${f} (${statSync(f).size} bytes)`);
  } finally {
    echo.close();
    if (cri && sandbox) {
      await cri.call('StopPodSandbox', { pod_sandbox_id: sandbox.pod }).catch(() => {});
      await cri.call('RemovePodSandbox', { pod_sandbox_id: sandbox.pod }).catch(() => {});
    }
    cri?.close();
    containerd.kill('SIGTERM');
    await new Promise((r) => containerd.once('exit', r));
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
