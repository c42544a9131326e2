/**
 * The committed `fixtures/chain/` captures against their truth: each hop's
 * session, found by the ports its own record names, carries the bytes that
 * hop says it read and wrote (per stream and direction), is labelled with
 * the right hop, and the client hop carries what kubectl was given.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RecordedSession } from '../../src/serve/index.js';
import { ROOT, cliMissing, runCli } from '../cli/helpers.js';

const DIR = process.env.KUBEWIRE_CHAIN_FIXTURES ?? join(ROOT, 'fixtures', 'chain');
const truths = readdirSync(DIR).filter((f) => f.endsWith('.truth.json'));
const missing = cliMissing();

interface Truth {
  name: string;
  ports: { apiserver: number; kubelet: number; runtime: number };
  hops: Array<{ hop: string; transport: string; protocol: string; serverPort: number }>;
  stdin?: { bytes: number; sha256: string };
  exit?: { code: number };
  records: RecordedSession[];
}
interface Session {
  hop: string;
  transport: string;
  protocol: string;
  client: string;
  server: string;
  exit: { code: number } | null;
  streams: Array<{ role: string; port?: number | null; requestId?: string | null; clientToServer: unknown; serverToClient: unknown }>;
}

(missing ? describe.skip : describe)('fixtures/chain', () => {
  it('has the captures the path linking is tested on', () => {
    expect(truths.sort()).toEqual(
      ['k127-exec-cat-concurrent', 'k127-exec-cat-exit7', 'k133-exec-cat-exit7', 'k133-exec-tty', 'k133-portforward'].map((n) => `${n}.truth.json`),
    );
  });

  for (const t of truths) {
    it(`${t}: every hop's session matches that hop's own record`, async () => {
      const truth = JSON.parse(readFileSync(join(DIR, t), 'utf8')) as Truth;
      const r = await runCli(['decode', join(DIR, t.replace('.truth.json', '.pcap')), '--summary', '--json']);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      const sessions = (JSON.parse(r.stdout.toString()) as { sessions: Session[] }).sessions;
      // Hop labels and protocols by the port each hop listened on.
      for (const h of truth.hops) {
        const onPort = sessions.filter((s) => s.server.endsWith(`:${h.serverPort}`));
        expect(onPort.length).toBe(truth.records.length / 3);
        for (const s of onPort) expect({ hop: s.hop, transport: s.transport, protocol: s.protocol }).toEqual({ hop: h.hop, transport: h.transport, protocol: h.protocol });
      }
      // Each record names its connection: the decoded streams equal the record's.
      for (const rec of truth.records) {
        const s = sessions.find((x) => x.client.endsWith(`:${rec.clientPort}`) && x.server.endsWith(`:${rec.serverPort}`));
        expect(s, `${rec.hop} session ${rec.clientPort}→${rec.serverPort}`).toBeDefined();
        for (const st of rec.streams) {
          const d = s!.streams.filter(
            (x) => x.role === st.role && (st.port === undefined || (x.port === st.port && x.requestId === st.requestId)),
          );
          expect(d, `${rec.hop} ${st.role}`).toHaveLength(1);
          // The runtime's record is the command's side: it never reads what arrives after the exit.
          if (st.clientToServer.bytes > 0 || rec.hop !== 'runtime') expect(d[0]!.clientToServer).toEqual(st.clientToServer);
          expect(d[0]!.serverToClient).toEqual(st.serverToClient);
        }
        if (rec.exit && 'code' in rec.exit) expect(s!.exit?.code).toBe(rec.exit.code);
      }
      // What kubectl was given is on the client hop, byte for byte.
      if (truth.stdin) {
        const client = sessions.find((s) => s.server.endsWith(`:${truth.ports.apiserver}`))!;
        expect(client.streams.find((x) => x.role === 'stdin')!.clientToServer).toEqual(truth.stdin);
        expect(client.exit?.code).toBe(truth.exit!.code);
      }
    }, 60_000);
  }
});
