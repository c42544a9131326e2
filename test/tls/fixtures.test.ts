/**
 * Real clients over TLS with their own key logs (fixtures/tls, made by
 * `npm run fixtures`): python3-kubernetes with SSLKEYLOGFILE and
 * @kubernetes/client-node under `node --tls-keylog`, against `serve --tls`.
 * Decrypted, every stream is byte-exact against the truth; without the key
 * log the connection is described and "no key".
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCaptureToConnections } from '../../src/tcp/index.js';
import { SessionDecoder, type DecodeSummary, type TimelineEvent } from '../../src/timeline/index.js';
import { TlsKeyLog } from '../../src/tls/index.js';
import { FIXTURES, type FixtureTruth } from '../helpers/fixture-truths.js';
import { cliMissing, runCli } from '../cli/helpers.js';

const TLS_FIXTURES = join(FIXTURES, 'tls');
const truths: Array<{ truth: FixtureTruth; capture: string; keylog: string }> = existsSync(TLS_FIXTURES)
  ? readdirSync(TLS_FIXTURES)
      .filter((f) => f.endsWith('.truth.json'))
      .sort()
      .map((f) => {
        const truth = JSON.parse(readFileSync(join(TLS_FIXTURES, f), 'utf8')) as FixtureTruth;
        return { truth, capture: join(TLS_FIXTURES, `${truth.name}.${truth.format}`), keylog: join(TLS_FIXTURES, truth.tlsKeylog!) };
      })
  : [];
if (truths.length === 0) console.warn('no TLS fixtures found; run `npm run fixtures`');

async function decode(capture: string, keylog: string | null): Promise<{ summary: DecodeSummary; diagnostics: TimelineEvent[] }> {
  const keys = new TlsKeyLog();
  if (keylog) {
    keys.addText(readFileSync(keylog, 'latin1'));
    keys.flush();
  }
  const dec = new SessionDecoder({ tlsKeys: keys, frameEvents: false });
  const diagnostics: TimelineEvent[] = [];
  await decodeCaptureToConnections(capture, (e) => {
    for (const ev of dec.push(e)) if (ev.kind === 'diagnostic') diagnostics.push(ev);
  });
  for (const ev of dec.finish()) if (ev.kind === 'diagnostic') diagnostics.push(ev);
  return { summary: dec.summary(), diagnostics };
}

describe.skipIf(truths.length === 0)('TLS fixtures of real clients', () => {
  for (const { truth, capture, keylog } of truths) {
    it(`${truth.name}: decrypted with the client's key log, byte-exact against the truth`, async () => {
      const { summary, diagnostics } = await decode(capture, keylog);
      expect(diagnostics).toEqual([]);
      expect(summary.tlsConnections).toHaveLength(1);
      expect(summary.tlsConnections![0]).toMatchObject({ version: 'TLS 1.3', decrypted: true, reason: null, recordsFailed: 0 });
      expect(summary.sessions.map((s) => [s.kind, s.transport, s.protocol])).toEqual(truth.sessions.map((s) => [s.kind, s.transport, s.protocol]));
      truth.sessions.forEach((t, i) => {
        const s = summary.sessions[i]!;
        expect(s.exit && { status: s.exit.status, code: s.exit.code }).toEqual(t.exit);
        for (const ts of t.streams) {
          const os = s.streams.find((x) => x.role === ts.role);
          expect(os, ts.role).toBeDefined();
          expect({ c2s: os!.clientToServer, s2c: os!.serverToClient }, ts.role).toEqual({ c2s: ts.clientToServer, s2c: ts.serverToClient });
        }
      });
    });

    it(`${truth.name}: without the key log, described as TLS with no key, and nothing else`, async () => {
      const { summary, diagnostics } = await decode(capture, null);
      expect(diagnostics).toEqual([]);
      expect(summary.sessions).toEqual([]);
      expect(summary.tlsConnections![0]).toMatchObject({ version: 'TLS 1.3', decrypted: false, reason: 'no-key' });
    });

    it.skipIf(cliMissing() !== null)(`${truth.name}: the CLI's outputs never show the token or a key`, async () => {
      const secrets = readFileSync(keylog, 'latin1').split('\n').filter(Boolean).map((l) => l.split(' ')[2]!);
      if (truth.secret) secrets.push(truth.secret);
      for (const form of [[], ['--json'], ['--summary'], ['--ndjson']]) {
        const r = await runCli(['decode', capture, '--tls-keylog', keylog, ...form]);
        expect(r.code).toBe(0);
        const text = r.stdout.toString('latin1') + r.stderr;
        for (const s of secrets) expect(text).not.toContain(s);
      }
    });
  }
});
