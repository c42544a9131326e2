/**
 * Digests hashed on the worker thread are the digests hashed inline, however
 * the bytes are cut and interleaved between streams, whatever the ring's size
 * (small rings make `update` wait for the worker and wrap around often), and
 * although the caller reuses its buffer right after each `update`.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerDigests } from '../../src/cli/digest-worker.js';
import { INLINE_DIGESTS, type DigestEngine, type RunningDigest } from '../../src/timeline/digests.js';

const workers: WorkerDigests[] = [];
afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
});

/** Feed `pieces` ([digest index, bytes]) into `count` digests of `engine`, through one reused scratch buffer. */
function feed(engine: DigestEngine, count: number, pieces: Array<[number, Uint8Array]>): RunningDigest[] {
  const digests = Array.from({ length: count }, () => engine.open());
  const scratch = new Uint8Array(4096);
  for (const [i, bytes] of pieces) {
    // The caller's view is overwritten after the call: the engine must not keep it. It starts
    // anywhere within a word (the engine places long pieces at their source's alignment).
    const skew = (bytes.length * 5 + i) & 7;
    const view = bytes.length + skew <= scratch.length ? scratch.subarray(skew, skew + bytes.length) : new Uint8Array(bytes.length + skew).subarray(skew);
    view.set(bytes);
    digests[i % count]!.update(view);
    view.fill(0xee);
  }
  return digests;
}

describe('WorkerDigests', () => {
  it('gives the inline digests for any cutting, interleaving and ring size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 6000, size: 'max' })), { maxLength: 60 }),
        fc.integer({ min: 1, max: 9000 }),
        fc.integer({ min: 1, max: 4 }),
        async (count, pieces, slotBytes, slots) => {
          const worker = new WorkerDigests({ slotBytes, slots });
          workers.push(worker);
          const inline = feed(INLINE_DIGESTS, count, pieces).map((d) => d.hex());
          const viaWorker = feed(worker, count, pieces);
          await worker.settle();
          // Streams that got no bytes are never opened by the timeline; compare the rest.
          const fed = new Set(pieces.map(([i]) => i % count));
          for (const i of fed) expect(viaWorker[i]!.hex()).toBe(inline[i]);
          await worker.close();
        },
      ),
      { numRuns: 40 },
    );
  });

  it('hashes 64 MiB in many pieces to the digest of the whole', async () => {
    const worker = new WorkerDigests();
    workers.push(worker);
    const d = worker.open();
    const other = worker.open();
    const whole = createHash('sha256');
    const block = new Uint8Array(65_521);
    for (let i = 0; i < 1024; i++) {
      block.fill(i & 0xff);
      whole.update(block);
      d.update(block);
      other.update(block.subarray(0, 7));
    }
    await worker.settle();
    expect(d.hex()).toBe(whole.digest('hex'));
    expect(other.hex()).toBe(
      createHash('sha256')
        .update(Buffer.concat(Array.from({ length: 1024 }, (_, i) => Buffer.alloc(7, i & 0xff))))
        .digest('hex'),
    );
  });

  it('refuses to give a digest while bytes are still on their way', () => {
    const worker = new WorkerDigests();
    workers.push(worker);
    const d = worker.open();
    d.update(new Uint8Array([1, 2, 3]));
    expect(() => d.hex()).toThrow(/before settle/);
  });
});

describe('when decode hashes on the worker', () => {
  it('files from 16 MiB and pipes, with a core to spare; the environment decides first', async () => {
    const { useDigestWorker, wantsDigests } = await import('../../src/cli/decode-digests.js');
    const idle = { cores: 2, load: 0.3 };
    const busy = { cores: 2, load: 1.5 };
    expect(useDigestWorker(16 * 1024 * 1024 - 1, {}, idle)).toBe(false);
    expect(useDigestWorker(16 * 1024 * 1024, {}, idle)).toBe(true);
    expect(useDigestWorker(null, {}, idle)).toBe(true);
    // No spare core: the worker would only compete with the parser.
    expect(useDigestWorker(1 << 30, {}, busy)).toBe(false);
    expect(useDigestWorker(1 << 30, {}, { cores: 1, load: 0 })).toBe(false);
    expect(useDigestWorker(1 << 30, { KUBEWIRE_DIGEST_WORKER: '1' }, busy)).toBe(true);
    expect(useDigestWorker(1 << 30, { KUBEWIRE_DIGEST_WORKER: '0' }, idle)).toBe(false);
    expect(useDigestWorker(10, { KUBEWIRE_DIGEST_WORKER: '1' }, idle)).toBe(true);
    const base = { summary: false, json: false, ndjson: false, follow: false };
    expect(wantsDigests({ ...base, summary: true })).toBe(true);
    expect(wantsDigests({ ...base, json: true })).toBe(true);
    expect(wantsDigests({ ...base, summary: true, json: true })).toBe(true);
    expect(wantsDigests(base)).toBe(false);
    expect(wantsDigests({ ...base, ndjson: true })).toBe(false);
    expect(wantsDigests({ ...base, follow: true })).toBe(false);
  });

  it('counts what wants a core now, not the last minute: an idle machine after a busy minute has a core to spare', async () => {
    const { loadNow } = await import('../../src/cli/decode-digests.js');
    // the minute's average (first field) is ignored; this process's own running thread is not counted
    expect(loadNow(() => '1.71 1.42 1.32 1/116 18611\n')).toBe(0);
    expect(loadNow(() => '0.02 0.10 0.20 3/119 18657\n')).toBe(2);
    // no /proc/loadavg, or one that cannot be read: the one-minute average
    expect(loadNow(() => 'garbage')).toBe(loadavg()[0]);
    expect(
      loadNow(() => {
        throw new Error('ENOENT');
      }),
    ).toBe(loadavg()[0]);
    if (!existsSync('/proc/loadavg')) return void console.log('skipped the live check: no /proc/loadavg (not Linux)');
    const busyLoop = spawn(process.execPath, ['-e', 'for (;;);'], { stdio: 'ignore' });
    try {
      // a busy loop is runnable all the time once it has started
      await new Promise((r) => setTimeout(r, 300));
      expect(loadNow()).toBeGreaterThanOrEqual(1);
    } finally {
      busyLoop.kill();
    }
  });
});
