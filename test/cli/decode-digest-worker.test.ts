/**
 * `kubewire decode --summary --json` hashing on the worker thread prints what
 * it prints hashing inline, byte for byte, on every fixture; and its digests
 * are the fixtures' ground truth.
 */
import { describe, expect, it } from 'vitest';
import { cliMissing, fixtures, runCli } from './helpers.js';

const missing = cliMissing();

describe.skipIf(missing !== null)('decode with digests on a worker thread', () => {
  for (const f of fixtures()) {
    it(`${f.name}: same document as inline hashing`, async () => {
      const [inline, worker] = await Promise.all([
        runCli(['decode', f.capture, '--summary', '--json'], { env: { KUBEWIRE_DIGEST_WORKER: '0' } }),
        runCli(['decode', f.capture, '--summary', '--json'], { env: { KUBEWIRE_DIGEST_WORKER: '1' } }),
      ]);
      expect(worker.code).toBe(inline.code);
      expect(worker.stderr).toBe(inline.stderr);
      expect(worker.stdout.toString()).toBe(inline.stdout.toString());
      type Dir = { bytes: number; sha256: string | null };
      const doc = JSON.parse(worker.stdout.toString()) as { sessions: Array<{ streams: Array<{ clientToServer: Dir; serverToClient: Dir }> }> };
      const got = new Set(doc.sessions.flatMap((s) => s.streams.flatMap((st) => [`c${st.clientToServer.sha256}`, `s${st.serverToClient.sha256}`])));
      let checked = 0;
      for (const s of f.truth.sessions) {
        for (const st of s.streams) {
          if (st.source !== undefined) continue;
          if (st.clientToServer.bytes > 0 && !f.truth.midSession) (checked++, expect(got).toContain(`c${st.clientToServer.sha256}`));
          if (st.serverToClient.bytes > 0 && !f.truth.midSession) (checked++, expect(got).toContain(`s${st.serverToClient.sha256}`));
        }
      }
      if (!f.truth.midSession && f.truth.tlsKeylog === undefined) expect(checked).toBeGreaterThan(0);
    });
  }
});
