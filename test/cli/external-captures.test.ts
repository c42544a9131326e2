/**
 * The built CLI on captures of other software (`../shared/external-captures`):
 * exit codes, and Docker's raw attach followed byte for byte against tshark.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliMissing, runCli } from './helpers.js';
import { sharedDir } from '../helpers/shared-captures.js';
import { which } from '../capture/live-helpers.js';

const dir = sharedDir('external-captures');
const missing = cliMissing() ?? (dir ? null : 'no ../shared/external-captures beside the repository');
if (missing) console.warn(`skipping the CLI on external captures: ${missing}`);
const tshark = which('tshark');
/** Captures whose software breaks a rule of RFC 6455: notes, not diagnostics (see test/timeline/external-websocket.test.ts). */
const NOTES: Record<string, number> = { 'zeek__zeek__wstunnel-http.pcap': 2, 'zeek__zeek__wrong-accept-header.pcap': 1 };

describe.skipIf(missing !== null)('kubewire decode on captures of other software', () => {
  const files = dir ? readdirSync(dir).filter((f) => /^zeek__zeek__.*\.pcap$|websocket-sip\.pcapng$/.test(f)).sort() : [];

  it('exits 0 on every WebSocket and upgrade capture; rules the software broke are notes in the summary', async () => {
    const seen: Record<string, [code: number | null, notes: number]> = {};
    for (const f of files) {
      const r = await runCli(['decode', join(dir!, f), '--summary', '--json']);
      const s = JSON.parse(r.stdout.toString('utf8')) as { sessions: Array<{ notes: number }> };
      seen[f] = [r.code, s.sessions.reduce((n, x) => n + x.notes, 0)];
    }
    expect(seen).toEqual(Object.fromEntries(files.map((f) => [f, [0, NOTES[f] ?? 0]])));
  });

  it.skipIf(!tshark)("--follow prints Docker's raw attach stream: the bytes tshark follows after the 101", async () => {
    const file = join(dir!, 'zeek__zeek__docker-http-upgrade.pcap');
    const r = await runCli(['decode', file, '--follow']);
    expect(r.code).toBe(0);
    // tshark: the attach connection is TCP stream 1; each direction's bytes after its HTTP head
    const f = spawnSync('tshark', ['-r', file, '-q', '-z', 'follow,tcp,raw,1'], { encoding: 'utf8' });
    expect(f.status).toBe(0);
    const dirs = { c: [] as Buffer[], s: [] as Buffer[], order: [] as Buffer[] };
    for (const line of f.stdout.split('\n')) {
      if (!/^\t?[0-9a-f]+$/.test(line)) continue;
      const b = Buffer.from(line.trim(), 'hex');
      (line.startsWith('\t') ? dirs.s : dirs.c).push(b);
    }
    const afterHead = (bufs: Buffer[]) => {
      const all = Buffer.concat(bufs);
      return all.subarray(all.indexOf('\r\n\r\n') + 4);
    };
    const c2s = afterHead(dirs.c);
    const s2c = afterHead(dirs.s);
    expect(c2s.length + s2c.length).toBeGreaterThan(0);
    expect(r.stdout.length).toBe(c2s.length + s2c.length);
    const j = await runCli(['decode', file, '--summary', '--json']);
    const s = JSON.parse(j.stdout.toString('utf8')).sessions[0];
    expect(s).toMatchObject({ application: 'raw', transport: 'raw', protocol: 'tcp' });
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(s.streams[0].clientToServer).toEqual({ bytes: c2s.length, sha256: sha(c2s) });
    expect(s.streams[0].serverToClient).toEqual({ bytes: s2c.length, sha256: sha(s2c) });
  });
});
