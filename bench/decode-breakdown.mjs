// One stage of `kubewire decode FILE --summary --json`, in a fresh process as
// the CLI runs it (the built modules in dist/, cold), timed after its imports:
//   node bench/decode-breakdown.mjs FILE read|read-fresh|parse|inline|worker
// read: the file's 1 MiB chunks only, as the CLI reads them (into a few
// recycled buffers); read-fresh: the same reads, a fresh buffer each; parse: capture → TCP → sessions without
// digests; inline: with sha256 digests hashed on this thread; worker: with the
// digests on the worker thread (as the CLI does from 16 MiB). Prints JSON:
// wall ms, this thread's CPU ms (from /proc, so the worker's time is not
// counted), the process's CPU ms, and the import time.
import { readFileSync } from 'node:fs';

const threadNs = () => {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    const u = process.cpuUsage();
    return (u.user + u.system) * 1000;
  }
};
const [file, mode] = process.argv.slice(2);
const t0 = performance.now();
const c0 = threadNs();
const dist = new URL('../dist/', import.meta.url);
const { captureChunks } = await import(new URL('capture/sources.js', dist).href);
const { CaptureDecoder, decoderChunks } = await import(new URL('tcp/pipeline.js', dist).href);
const { SessionDecoder } = await import(new URL('timeline/session-decoder.js', dist).href);
const { WorkerDigests } = await import(new URL('cli/digest-worker.js', dist).href);
const t1 = performance.now();
const c1 = threadNs();
const p1 = process.cpuUsage();

let bytes = 0;
if (mode === 'read') {
  for await (const chunk of decoderChunks(file, { buffered: 0 })) bytes += chunk.length;
} else if (mode === 'read-fresh') {
  for await (const chunk of captureChunks(file)) bytes += chunk.length;
} else {
  const worker = mode === 'worker' ? new WorkerDigests() : null;
  // as the CLI's summary decodes: no frame events, bulk DATA counted in pieces
  const decoder = new SessionDecoder({ frameEvents: false, dataPieces: true, digests: worker ?? mode === 'inline' });
  const reader = new CaptureDecoder((ev) => decoder.push(ev), {});
  for await (const chunk of decoderChunks(file, reader)) {
    reader.push(chunk);
    bytes += chunk.length;
  }
  reader.end();
  decoder.finish();
  if (worker) await worker.settle();
  decoder.summary();
  void worker?.close();
}
const t2 = performance.now();
const c2 = threadNs();
const p2 = process.cpuUsage(p1);
process.stdout.write(
  JSON.stringify({ mode, bytes, importMs: t1 - t0, importCpuMs: (c1 - c0) / 1e6, wallMs: t2 - t1, threadCpuMs: (c2 - c1) / 1e6, processCpuMs: (p2.user + p2.system) / 1000 }) + '\n',
);
