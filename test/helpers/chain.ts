/**
 * `serve --chain` under a capture: the three hops started in-process with
 * their records kept, and tcpdump on `-i lo` for the three ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { startChain, type ChainHandle, type ChainOptions, type RecordedSession } from '../../src/serve/index.js';

export interface RecordingChain {
  chain: ChainHandle;
  records: RecordedSession[];
  ports: { apiserver: number; kubelet: number; runtime: number };
}

export async function recordingChain(opts: Omit<ChainOptions, 'onRecord'> = {}): Promise<RecordingChain> {
  const records: RecordedSession[] = [];
  const chain = await startChain({ ...opts, onRecord: (r) => records.push(r) });
  return { chain, records, ports: { apiserver: chain.apiserver.port, kubelet: chain.kubelet.port, runtime: chain.runtime.port } };
}

export function tcpdumpPath(): string | null {
  for (const p of ['/usr/bin/tcpdump', '/usr/sbin/tcpdump']) if (existsSync(p)) return p;
  return null;
}

/** Why the three hops cannot be captured here, or null. */
export function chainCaptureUnavailable(): string | null {
  if (!tcpdumpPath()) return 'tcpdump is not installed';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return `capturing on lo needs root (uid ${process.getuid()})`;
  return null;
}

export interface LoCapture {
  stop(): Promise<void>;
}

/** tcpdump of the given TCP ports on lo into `file` (pcap); resolves once it listens. */
export async function captureLo(file: string, ports: number[]): Promise<LoCapture> {
  const filter = ports.map((p) => `tcp port ${p}`).join(' or ');
  // The kernel's buffer (-B, KiB) holds what tcpdump has not read yet. On a
  // loaded machine tcpdump may hardly run during an exec: 16 MiB dropped
  // about 900 of 2100 packets of the 3 MiB exec (about 19 MB over the three
  // hops). 64 MiB holds the largest exec here whole.
  const child: ChildProcess = spawn(tcpdumpPath()!, ['-i', 'lo', '-s', '0', '-U', '-n', '-B', '65536', '-w', file, filter], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let report = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${report}`)), 10_000);
    child.stderr!.on('data', (d: Buffer) => {
      report += d.toString();
      if (/listening on/.test(report)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', () => reject(new Error(`tcpdump exited: ${report}`)));
  });
  return {
    async stop() {
      // tcpdump reads the kernel's buffer behind the traffic (far behind on a
      // busy machine) and drops what it has not read when stopped: wait until
      // the file has stopped growing.
      let size = -1;
      let still = 0;
      for (let i = 0; i < 150 && still < 3; i++) {
        await new Promise((r) => setTimeout(r, 400));
        const now = existsSync(file) ? statSync(file).size : 0;
        still = now === size ? still + 1 : 0;
        size = now;
      }
      const exited = new Promise<void>((r) => child.on('exit', () => r()));
      child.kill('SIGINT');
      await exited;
      if (process.env.KUBEWIRE_DEBUG_CAPTURE) process.stderr.write(report);
      if (/[1-9]\d* packets? dropped by kernel/.test(report)) throw new Error(`tcpdump lost packets: ${report}`);
    },
  };
}
