/**
 * `serve --chain`: the whole exec path on this machine, three listeners on
 * loopback, each a real TCP hop:
 *
 *   kubectl → apiserver (kubeconfig) → kubelet → runtime (runs the command)
 *
 * so a capture of `-i lo` on the three ports shows each hop's session
 * (client-apiserver, apiserver-kubelet, kubelet-runtime).
 */
import type { ServeOptions } from '../server.js';
import { kubeconfigYaml } from '../kubeconfig.js';
import { startApiserverHop } from './apiserver.js';
import { startKubeletHop } from './kubelet.js';
import type { HopHandle } from './listen.js';
import { hopRecorder, type RecordedSession } from './record.js';
import { startRuntimeHop } from './runtime.js';

export interface ChainOptions {
  /** What the runtime does (echo, attach command, connect host, env). */
  runtime?: Pick<ServeOptions, 'echo' | 'attachCommand' | 'connectHost' | 'env'>;
  /** Loopback address:port of each hop (default 127.0.0.1, free ports). */
  listen?: { apiserver?: string; kubelet?: string; runtime?: string };
  apiserverVersion?: string;
  /** Append each hop's session records (JSON lines) to this file. */
  recordFile?: string;
  /** Also hand each session record to this function. */
  onRecord?: (s: RecordedSession) => void;
  log?: (line: string) => void;
}

export interface ChainHandle {
  apiserver: HopHandle;
  kubelet: HopHandle;
  runtime: HopHandle;
  /** The kubeconfig that points kubectl at the apiserver hop. */
  kubeconfig: string;
  close(): Promise<void>;
}

export async function startChain(opts: ChainOptions = {}): Promise<ChainHandle> {
  const tag = (hop: string) => (opts.log ? (line: string) => opts.log!(`${hop}: ${line}`) : undefined);
  const runtime = await startRuntimeHop({
    ...opts.runtime,
    listen: opts.listen?.runtime,
    log: tag('runtime'),
    record: hopRecorder('runtime', opts.recordFile, opts.onRecord),
  });
  const kubelet = await startKubeletHop({
    listen: opts.listen?.kubelet,
    upstream: runtime.url,
    log: tag('kubelet'),
    record: hopRecorder('kubelet', opts.recordFile, opts.onRecord),
  });
  const apiserver = await startApiserverHop({
    listen: opts.listen?.apiserver,
    upstream: kubelet.url,
    version: opts.apiserverVersion,
    log: tag('apiserver'),
    record: hopRecorder('apiserver', opts.recordFile, opts.onRecord),
  });
  return {
    apiserver,
    kubelet,
    runtime,
    kubeconfig: kubeconfigYaml({ server: apiserver.url }),
    async close() {
      await apiserver.close();
      await kubelet.close();
      await runtime.close();
    },
  };
}
