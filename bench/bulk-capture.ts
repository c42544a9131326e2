/**
 * The ~100 MB capture the decode and report benchmarks read: kubectl 1.27
 * exec -i -- cat through `kubewire serve` with 48 MiB of deterministic stdin,
 * echoed back, recorded by tcpdump into `file`.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { captureUnavailable, withCapture } from '../scripts/fixtures/capture.js';
import { deterministicBytes } from '../scripts/fixtures/truth.js';
import { startServe } from '../src/serve/index.js';
import { kubectlBinary, runKubectl } from '../test/helpers/kubectl.js';

export const BULK_STDIN_BYTES = 48 * 1024 * 1024;

/** Why the capture cannot be made here (no root, tcpdump or kubectl 1.27), or null. */
export function bulkCaptureUnavailable(): string | null {
  return captureUnavailable('pcap') ?? (kubectlBinary('1.27') ? null : 'kubectl.1.27 not found');
}

/**
 * Record the capture into `file`; returns the stdin that was sent (and
 * echoed). `stdinBytes` makes a larger one (the capture is about twice it).
 */
export async function recordBulkCapture(file: string, stdinBytes = BULK_STDIN_BYTES): Promise<Buffer> {
  const data = deterministicBytes(stdinBytes, 0x5eed);
  const serve = await startServe();
  const kubeconfig = join(dirname(file), 'config');
  writeFileSync(kubeconfig, serve.kubeconfig);
  try {
    const res = await withCapture({ port: serve.port, file, format: 'pcap', bufferKiB: 128 * 1024 }, () =>
      runKubectl(kubectlBinary('1.27')!, ['exec', '-i', 'p', '--', 'cat'], { kubeconfig, stdin: data, timeoutMs: 180_000 + stdinBytes / 100_000 }),
    );
    if (!res.stdout.equals(data)) throw new Error(`kubectl did not get its stdin back (${res.stdout.length} bytes)`);
  } finally {
    await serve.close();
  }
  return data;
}
