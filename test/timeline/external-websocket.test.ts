/**
 * WebSocket and HTTP-upgrade captures of other software (Jupyter, SIP,
 * wstunnel, Zeek's broker, Python `websockets`, a Kaazing gateway, Docker's
 * attach), made by other people: each is shown as what it is, never read as
 * Kubernetes, and decodes without diagnostics; where the software breaks a
 * rule of RFC 6455 while its frames still read right, that is a note.
 * breaks a rule. Frame by frame, what we decode equals tshark's `websocket`
 * dissector (the peer), per direction: opcode and payload length of every
 * frame, and the messages (data frames with FIN) and their bytes.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCaptureToConnections } from '../../src/tcp/index.js';
import { SessionDecoder, type DecodeSummary, type TimelineEvent } from '../../src/timeline/index.js';
import { sharedDir } from '../helpers/shared-captures.js';
import { which } from '../capture/live-helpers.js';

/**
 * The captures whose software breaks a rule, and the notes that say so
 * (checked by hand against tshark's view of the same bytes). Not
 * diagnostics: the traffic is not Kubernetes and reads right.
 */
const EXPECTED_NOTES: Record<string, string[]> = {
  // wstunnel's client sends its frames unmasked (tshark: websocket.mask 0 on both client frames);
  // RFC 6455 §5.1: a client MUST mask every frame it sends.
  'zeek__zeek__wstunnel-http.pcap': ['WEBSOCKET_UNMASKED_CLIENT_FRAME', 'WEBSOCKET_UNMASKED_CLIENT_FRAME'],
  // the server answers with `Sec-WebSocket-Accept: N8ntNYkX6Qerw4tK3s/CYzpSZNc=-wrong`, which is not
  // base64(SHA-1(key + GUID)) of the client's key (RFC 6455 §4.2.2); the client rightly gave up.
  'zeek__zeek__wrong-accept-header.pcap': ['TIMELINE_WEBSOCKET_BAD_ACCEPT'],
};

/** What each capture's sessions carry. */
const APPLICATIONS: Record<string, string[]> = {
  'zeek__zeek__docker-http-upgrade.pcap': ['raw'],
  'zeek__zeek__wstunnel-ssh.pcap': ['websocket', 'websocket'],
};

const dir = sharedDir('external-captures');
if (!dir) console.warn('no ../shared/external-captures beside the repository: skipping the external WebSocket captures');
const files = dir ? readdirSync(dir).filter((f) => /^zeek__zeek__.*\.pcap$|websocket-sip\.pcapng$/.test(f)).sort() : [];
const tshark = which('tshark');
if (dir && !tshark) console.warn('tshark not found: skipping the comparison with its websocket dissector');

interface Decoded {
  summary: DecodeSummary;
  events: TimelineEvent[];
}

async function decode(path: string): Promise<Decoded> {
  const dec = new SessionDecoder();
  const events: TimelineEvent[] = [];
  await decodeCaptureToConnections(path, (e) => {
    events.push(...dec.push(e));
  });
  events.push(...dec.finish());
  return { summary: dec.summary(), events };
}

type Frames = Map<string, Array<[opcode: number, length: number, fin: boolean]>>;

/** tshark's frames per `client>server` (as ours: `address:port`), in order. */
function tsharkFrames(path: string): Frames {
  // JSON, with frames of one packet as an array (`--no-duplicate-keys`): the fields form
  // cannot line up the extended lengths (`payload_length` says 126/127 there) with their frames
  const r = spawnSync('tshark', ['-r', path, '-Y', 'websocket', '-T', 'json', '--no-duplicate-keys', '-j', 'ip ipv6 tcp websocket'], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  expect(r.status, r.stderr).toBe(0);
  type Layer = Record<string, string>;
  const packets = JSON.parse(r.stdout) as Array<{ _source: { layers: Record<string, Layer | Layer[]> } }>;
  const out: Frames = new Map();
  for (const p of packets) {
    const l = p._source.layers;
    const ip = (l.ip ?? l.ipv6) as Layer;
    const tcp = l.tcp as Layer;
    const src = ip['ip.src'] ?? ip['ipv6.src'];
    const dst = ip['ip.dst'] ?? ip['ipv6.dst'];
    const key = `${src}:${tcp['tcp.srcport']}>${dst}:${tcp['tcp.dstport']}`;
    const list = out.get(key) ?? [];
    const ws = l.websocket!;
    for (const f of Array.isArray(ws) ? ws : [ws]) {
      const len = Number(f['websocket.payload_length_ext_64'] ?? f['websocket.payload_length_ext_16'] ?? f['websocket.payload_length']);
      list.push([Number(f['websocket.opcode']), len, f['websocket.fin'] === '1']);
    }
    out.set(key, list);
  }
  return out;
}

/** Our frames per `sender>receiver`. */
function ourFrames(d: Decoded): Frames {
  const ends = new Map<number, { client: string; server: string }>();
  for (const s of d.summary.sessions) ends.set(s.session, { client: s.client, server: s.server });
  const out: Frames = new Map();
  for (const ev of d.events) {
    if (ev.kind !== 'frame' || ev.layer !== 'websocket') continue;
    const e = ends.get(ev.session)!;
    const key = ev.direction === 'clientToServer' ? `${e.client}>${e.server}` : `${e.server}>${e.client}`;
    const list = out.get(key) ?? [];
    list.push([ev.flags & 0x0f, ev.length, ev.fin]);
    out.set(key, list);
  }
  return out;
}

describe.skipIf(!dir)('WebSocket and upgrade captures of other software', () => {
  for (const file of files) {
    describe(file, () => {
      const path = join(dir!, file);

      it('is shown as what it is, with no diagnostics, and a note where the software breaks a rule', async () => {
        const d = await decode(path);
        expect(d.events.filter((e) => e.kind === 'diagnostic')).toEqual([]);
        expect(d.summary.diagnostics).toBe(0);
        const notes = d.events.flatMap((e) => (e.kind === 'note' ? [e.error.code] : []));
        expect(notes).toEqual(EXPECTED_NOTES[file] ?? []);
        expect(d.summary.sessions.reduce((n, s) => n + s.notes, 0)).toBe(notes.length);
        expect(d.summary.sessions.map((s) => s.application)).toEqual(APPLICATIONS[file] ?? ['websocket']);
        for (const s of d.summary.sessions) {
          expect(s.kind).toBe('unknown');
          expect(s.streams.every((x) => x.role === 'data')).toBe(true);
          expect(s.exit).toBeNull();
        }
        // nothing Kubernetes in the timeline either: no channel streams, no exit
        expect(d.events.filter((e) => e.kind === 'exit' || e.kind === 'resize' || (e.kind === 'stream-open' && e.role !== 'data'))).toEqual([]);
      });

      it.skipIf(!tshark)("has tshark's frames and messages, per direction", async () => {
        const d = await decode(path);
        const theirs = tsharkFrames(path);
        const ours = ourFrames(d);
        expect(Object.fromEntries(ours)).toEqual(Object.fromEntries(theirs));
        // messages: a data frame with FIN ends one; its bytes are all its data frames' bytes
        const messages = new Map<string, { count: number; bytes: number }>();
        for (const [key, frames] of theirs) {
          const data = frames.filter(([op]) => op <= 2);
          messages.set(key, { count: data.filter(([, , fin]) => fin).length, bytes: data.reduce((n, [, len]) => n + len, 0) });
        }
        const fromEvents = new Map<string, { count: number; bytes: number }>();
        for (const s of d.summary.sessions) {
          if (!s.messages) continue;
          for (const [key, c] of [[`${s.client}>${s.server}`, s.messages.clientToServer], [`${s.server}>${s.client}`, s.messages.serverToClient]] as const) {
            if (c.frames === 0 && !messages.has(key)) continue;
            fromEvents.set(key, { count: c.text + c.binary, bytes: c.bytes });
          }
        }
        for (const [key, m] of messages) if (m.count === 0 && m.bytes === 0 && !fromEvents.has(key)) messages.delete(key);
        expect(Object.fromEntries(fromEvents)).toEqual(Object.fromEntries(messages));
      });
    });
  }
});
