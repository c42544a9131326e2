/**
 * Corrupt files (truncated, bad pcapng block lengths, absurd pcap record
 * lengths, a record claiming more bytes than it has, garbage packets) and
 * captures joined midway (cut after the upgrade, or at any packet, also in
 * the middle of frames). Nothing throws; corruption is reported with its
 * packet or block and offset, and everything before it still decodes;
 * joined captures give DATA bytes that are the true tail of each stream.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBytes, endsWith, fixtures, recordBoundaries, smallFixtures, truthProblems, type Decoded } from './harness.js';
import { render } from './model.js';
import { resegment } from './transforms.js';

const all = fixtures();

/** Every stream of `cut` is a prefix of the same stream (same session, id, direction) in `full`. */
function prefixProblems(full: Decoded, cut: Decoded): string[] {
  const out: string[] = [];
  for (const [k, b] of cut.streams) {
    const f = full.streams.get(k);
    if (!f || !Buffer.from(f.subarray(0, b.length)).equals(Buffer.from(b))) out.push(`${k}: ${b.length} bytes not a prefix of the full decode`);
  }
  return out;
}

describe.skipIf(all.length === 0)('corrupt files', () => {
  it('truncated anywhere: before the first packet unreadable, after it everything before the cut', () => {
    for (const f of smallFixtures()) {
      for (const format of ['pcap', 'pcapng'] as const) {
        const file = render(f.model.segments, { format });
        const full = decodeBytes(file);
        const bounds = recordBoundaries(file, format);
        for (const wanted of [0, 10, 23, Math.floor(file.length * 0.37), Math.floor(file.length * 0.71), file.length - 1]) {
          // A cut exactly between records leaves a whole, valid file: cut one byte further.
          const at = bounds.has(wanted) && wanted > 0 ? wanted + 1 : wanted;
          const where = `${f.name} ${format} cut at ${at}`;
          const d = decodeBytes(file.subarray(0, at));
          expect(d.threw, where).toBe(null);
          expect(d.capture.failed, where).toBe(true);
          expect(d.diagnostics.some((x) => /^CAPTURE_/.test(x.code)), where).toBe(true);
          if (d.capture.packets > 0) {
            const m = d.diagnostics.find((x) => x.code === 'CAPTURE_TRUNCATED_PACKET')!;
            expect(m?.message, where).toMatch(format === 'pcap' ? /packet \d+, offset \d+/ : /block \d+.*offset \d+|offset \d+.*block \d+/);
          }
          expect(prefixProblems(full, d), where).toEqual([]);
        }
      }
    }
  });

  it('a pcapng block with a bad total length: named by block and offset, what came before decoded', () => {
    for (const f of smallFixtures()) {
      const file = render(f.model.segments, { format: 'pcapng' });
      const full = decodeBytes(file);
      // walk to the block in the middle
      const v = new DataView(file.buffer, file.byteOffset);
      let o = 0;
      let n = 0;
      const blocks: number[] = [];
      while (o < file.length) {
        blocks.push(o);
        o += v.getUint32(o + 4, true);
        n++;
      }
      const at = blocks[Math.floor(n / 2)]!;
      for (const bad of [7, 13, 0x7ffffff0, 4]) {
        const copy = file.slice();
        new DataView(copy.buffer).setUint32(at + 4, bad, true);
        const d = decodeBytes(copy);
        const where = `${f.name} block at ${at} length ${bad}`;
        expect(d.threw, where).toBe(null);
        const m = d.diagnostics.find((x) => /^CAPTURE_/.test(x.code));
        expect(m, where).toBeDefined();
        expect(m!.message, where).toMatch(new RegExp(`offset ${at}\\b`));
        expect(m!.message, where).toMatch(/block \d+/);
        expect(prefixProblems(full, d), where).toEqual([]);
      }
    }
  });

  it('pcapng oddities: a trailer length that disagrees, unknown blocks, a packet on an interface never described', () => {
    for (const f of smallFixtures()) {
      const file = render(f.model.segments, { format: 'pcapng' });
      const full = decodeBytes(file);
      const v = new DataView(file.buffer, file.byteOffset);
      const blocks: number[] = [];
      for (let o = 0; o < file.length; o += v.getUint32(o + 4, true)) blocks.push(o);
      const mid = blocks[Math.floor(blocks.length / 2)]!;
      const midLen = v.getUint32(mid + 4, true);
      // trailer disagrees
      const t = file.slice();
      new DataView(t.buffer).setUint32(mid + midLen - 4, midLen + 8, true);
      const dt = decodeBytes(t);
      expect(dt.threw, f.name).toBe(null);
      expect(dt.diagnostics.find((x) => /^CAPTURE_/.test(x.code))?.message, f.name).toMatch(new RegExp(`offset ${mid}\\b`));
      expect(prefixProblems(full, dt), f.name).toEqual([]);
      // unknown block types (custom and unassigned) between packets are skipped: the decode stays exact
      const unknown = (type: number) => {
        const b = new Uint8Array(20);
        const bv = new DataView(b.buffer);
        bv.setUint32(0, type, true);
        bv.setUint32(4, 20, true);
        bv.setUint32(16, 20, true);
        return b;
      };
      const withUnknown = Buffer.concat([file.subarray(0, mid), unknown(0x0bad), unknown(0x40000bad), file.subarray(mid)]);
      const du = decodeBytes(withUnknown, { keepBytes: false });
      expect(truthProblems(du.summary.sessions, f.truth), f.name).toEqual([]);
      // a packet block on interface 7 (never described): reported, the rest decoded
      const bad = file.slice();
      const type = new DataView(bad.buffer).getUint32(mid, true);
      if (type === 6) {
        new DataView(bad.buffer).setUint32(mid + 8, 7, true);
        const di = decodeBytes(bad);
        expect(di.threw, f.name).toBe(null);
        expect(di.diagnostics.some((x) => x.code === 'CAPTURE_UNKNOWN_INTERFACE' && new RegExp(`offset ${mid}\\b`).test(x.message)), f.name).toBe(true);
      }
    }
  });

  it('a pcap record with an absurd or overlong captured length', () => {
    for (const f of smallFixtures()) {
      const file = render(f.model.segments, { format: 'pcap' });
      const full = decodeBytes(file);
      const v = new DataView(file.buffer, file.byteOffset);
      const records: number[] = [];
      for (let o = 24; o < file.length; o += 16 + v.getUint32(o + 8, true)) records.push(o);
      const at = records[Math.floor(records.length / 2)]!;
      for (const bad of [0x7fffffff, v.getUint32(at + 8, true) + 100]) {
        const copy = file.slice();
        new DataView(copy.buffer).setUint32(at + 8, bad, true);
        const d = decodeBytes(copy);
        const where = `${f.name} record at ${at} caplen ${bad}`;
        expect(d.threw, where).toBe(null);
        expect(d.diagnostics.length, where).toBeGreaterThan(0);
        if (bad === 0x7fffffff) expect(d.diagnostics.find((x) => /^CAPTURE_/.test(x.code))!.message, where).toMatch(new RegExp(`offset ${at}\\b`));
        expect(prefixProblems(full, d), where).toEqual([]);
      }
    }
  });

  it('garbage packets between the real ones leave every session exact', () => {
    for (const f of smallFixtures()) {
      const file = render(f.model.segments, { format: 'pcap', link: 'ethernet' });
      const v = new DataView(file.buffer, file.byteOffset);
      const parts: Uint8Array[] = [file.subarray(0, 24)];
      let seed = 7;
      const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) & 255;
      let k = 0;
      for (let o = 24; o < file.length; ) {
        const len = 16 + v.getUint32(o + 8, true);
        parts.push(file.subarray(o, o + len));
        o += len;
        if (k++ % 3 === 0) {
          const body = Uint8Array.from({ length: 15 + (rnd() % 90) }, rnd);
          // half of them claim IPv4, to reach the IP and TCP parsers
          if (k % 2 === 0) body.set([0x08, 0x00, 0x45], 12);
          const rec = new Uint8Array(16 + body.length);
          const rv = new DataView(rec.buffer);
          rv.setUint32(0, v.getUint32(24, true), true);
          rv.setUint32(8, body.length, true);
          rv.setUint32(12, body.length, true);
          rec.set(body, 16);
          parts.push(rec);
        }
      }
      const d = decodeBytes(Buffer.concat(parts), { keepBytes: false });
      expect(d.threw, f.name).toBe(null);
      const clean = decodeBytes(file, { keepBytes: false });
      expect(JSON.stringify(d.summary.sessions.map((s) => s.streams)), f.name).toBe(JSON.stringify(clean.summary.sessions.map((s) => s.streams)));
    }
  });
});

describe.skipIf(all.length === 0)('captures joined midway', () => {
  it('the 2 MiB transfer (32 KiB DATA frames) joined at many points: both directions decoded, true tails', () => {
    const f = all.find((x) => x.name === 'k127-transfer-2mib');
    if (!f) return void console.warn('k127-transfer-2mib fixture missing');
    const segs = resegment(f.model.segments, 1000);
    const full = decodeBytes(render(segs, { format: 'pcap' }));
    const fs = full.summary.sessions[0]!.session;
    for (const frac of [0.05, 0.33, 0.5, 0.8]) {
      const at = Math.floor(frac * segs.length);
      const d = decodeBytes(render(segs.slice(at), { format: 'pcap' }));
      expect(d.threw).toBe(null);
      const dirs = new Set<string>();
      for (const [k, b] of d.streams) {
        const [, id, dir] = k.split('/');
        const want = full.streams.get(`${fs}/${id}/${dir}`) ?? new Uint8Array(0);
        expect(endsWith(want, b), `from ${frac}: ${k} ${b.length} of ${want.length}`).toBe(true);
        if (b.length > 0) dirs.add(dir!);
      }
      // the cut lands inside 32 KiB frames on both sides: each still finds its first whole frame
      expect([...dirs].sort(), `from ${frac}`).toEqual(['clientToServer', 'serverToClient']);
    }
  });

  it('cut at any packet of 1–9-byte segments (mid-frame): never throws, every stream a true tail', () => {
    const small = smallFixtures().filter((x) => !x.truth.midSession);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: small.length - 1 }), fc.integer(), fc.double({ min: 0, max: 1, noNaN: true }), (fi, seed, where01) => {
        const f = small[fi]!;
        const segs = resegment(f.model.segments, (r) => 1 + Math.floor(r() * 9), seed);
        const full = decodeBytes(render(segs, { format: 'pcap' }));
        const at = Math.floor(where01 * (segs.length - 1));
        const d = decodeBytes(render(segs.slice(at), { format: 'pcap' }));
        const where = `${f.name} seed ${seed} from packet ${at + 1}`;
        expect(d.threw, where).toBe(null);
        const fullBySession = new Map(full.summary.sessions.map((s) => [s.client, s.session]));
        for (const s of d.summary.sessions) {
          const fs = fullBySession.get(s.client) ?? fullBySession.get(s.server);
          if (fs === undefined) continue; // a request/response connection cut into something that looked like a session
          for (const [k, b] of d.streams) {
            const [sess, id, dir] = k.split('/');
            if (Number(sess) !== s.session) continue;
            const want = full.streams.get(`${fs}/${id}/${dir}`) ?? new Uint8Array(0);
            expect(endsWith(want, b), `${where}: stream ${id} ${dir}: ${b.length} bytes not the tail of ${want.length}`).toBe(true);
          }
        }
      }),
      { numRuns: 25, seed: 2024 },
    );
  });

  it('cut after the upgrade, inside the session and mid-frame: DATA decoded, roles inferred, every stream a true tail', () => {
    for (const f of smallFixtures().filter((x) => !x.truth.midSession)) {
      for (const tiny of [false, true]) {
        const segs = tiny ? resegment(f.model.segments, 7) : f.model.segments;
        const full = decodeBytes(render(segs, { format: 'pcapng' }));
        const i101 = segs.findIndex((s) => Buffer.from(s.payload.subarray(0, 12)).toString('latin1') === 'HTTP/1.1 101');
        if (i101 < 0) continue;
        const rest = segs.length - i101 - 1;
        for (const at of [i101 + 1, i101 + 1 + Math.floor(rest / 4), i101 + 1 + Math.floor(rest / 2)]) {
          const where = `${f.name}${tiny ? ' (7-byte segments)' : ''} from packet ${at + 1}`;
          const d = decodeBytes(render(segs.slice(at), { format: 'pcapng' }));
          expect(d.threw, where).toBe(null);
          if (at === i101 + 1) expect(d.summary.sessions.length, where).toBeGreaterThan(0);
          for (const s of d.summary.sessions) expect(s.inferred, where).toBe(true);
          // sessions are numbered alike (one per upgraded connection); stream ids are the wire's
          const fullBySession = new Map(full.summary.sessions.map((s) => [s.client, s.session]));
          for (const s of d.summary.sessions) {
            const fs = fullBySession.get(s.client) ?? fullBySession.get(s.server);
            expect(fs, `${where}: session ${s.client}`).toBeDefined();
            for (const [k, b] of d.streams) {
              const [sess, id, dir] = k.split('/');
              if (Number(sess) !== s.session) continue;
              const want = full.streams.get(`${fs}/${id}/${dir}`) ?? new Uint8Array(0);
              expect(endsWith(want, b), `${where}: stream ${id} ${dir}: ${b.length} bytes not the tail of ${want.length}`).toBe(true);
            }
          }
          if (at === i101 + 1) {
            // nothing of the session was lost: every stream and direction has the truth's bytes
            const sums = (l: Array<{ clientToServer: { bytes: number; sha256: string | null }; serverToClient: { bytes: number; sha256: string | null } }>) =>
              l.flatMap((x) => [x.clientToServer, x.serverToClient]).filter((x) => x.bytes > 0).map((x) => `${x.bytes}:${x.sha256}`).sort();
            expect(sums(d.summary.sessions.flatMap((x) => x.streams)), where).toEqual(sums(f.truth.sessions.at(-1)!.streams));
          }
        }
      }
    }
  });
});
