/** Decrypting captures for the TLS tests: our TLS layer straight on TCP reassembly, and tshark as the peer. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CaptureDecoder } from '../../src/tcp/pipeline.js';
import { SECRETS_TLS_KEY_LOG } from '../../src/capture/types.js';
import { TlsDecoder, TlsKeyLog, type TlsDescription } from '../../src/tls/index.js';
import type { KubewireError } from '../../src/common/errors.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * A file of the shared captures beside the clone (`../shared/…`; one level
 * further up for a git worktree kept in a folder of worktrees), or null when
 * it is not there.
 */
export function sharedFile(...parts: string[]): string | null {
  for (const up of [['..'], ['..', '..']]) {
    const p = path.resolve(repoRoot, ...up, 'shared', ...parts);
    if (existsSync(p)) return p;
  }
  return null;
}

export interface Decrypted {
  /** The TLS client's address:port. */
  client: string;
  clientToServer: Buffer;
  serverToClient: Buffer;
  description: TlsDescription;
  diagnostics: KubewireError[];
}

/** Every TCP connection of a capture through a TlsDecoder; secrets from `keylog` text and the capture's DSBs. */
export function decryptCapture(file: string, keylog?: string): Map<number, Decrypted> {
  const keys = new TlsKeyLog();
  if (keylog !== undefined) {
    keys.addText(keylog);
    keys.flush();
  }
  const decs = new Map<number, { tls: TlsDecoder; client: string; c2s: Buffer[]; s2c: Buffer[]; diags: KubewireError[] }>();
  const take = (conn: number, events: ReturnType<TlsDecoder['push']>) => {
    const d = decs.get(conn)!;
    for (const e of events) {
      if (e.kind === 'plaintext') (e.direction === 'clientToServer' ? d.c2s : d.s2c).push(Buffer.from(e.bytes));
      else if (e.kind === 'diagnostic') d.diags.push(e.error);
    }
  };
  const cap = new CaptureDecoder(
    (ev) => {
      if (ev.kind === 'open') decs.set(ev.connection, { tls: new TlsDecoder({ connection: ev.connection, keys }), client: `${ev.client.address}:${ev.client.port}`, c2s: [], s2c: [], diags: [] });
      else if (ev.kind === 'data') take(ev.connection, decs.get(ev.connection)!.tls.push(ev.direction, ev.bytes, ev.offset));
      else if (ev.kind === 'gap') take(ev.connection, decs.get(ev.connection)!.tls.gap(ev.direction, ev.size));
    },
    { onSecrets: (s) => s.secretsType === SECRETS_TLS_KEY_LOG && keys.addSecretsBlock(s.data) },
  );
  cap.push(readFileSync(file));
  cap.end();
  const out = new Map<number, Decrypted>();
  for (const [conn, d] of decs) {
    take(conn, d.tls.end());
    out.set(conn, { client: d.client, clientToServer: Buffer.concat(d.c2s), serverToClient: Buffer.concat(d.s2c), description: d.tls.description, diagnostics: d.diags });
  }
  return out;
}

/** The decrypted bytes tshark gives for each TCP stream, per node (node 0's lines are unindented). */
export function tsharkDecrypted(file: string, keylogFile: string | null): Array<{ node0: string; first: Buffer; second: Buffer }> {
  const keyOpt = keylogFile ? ['-o', `tls.keylog_file:${keylogFile}`] : [];
  const streams = spawnSync('tshark', ['-r', file, ...keyOpt, '-T', 'fields', '-e', 'tcp.stream'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const ids = [...new Set(streams.stdout.split('\n').filter(Boolean).map(Number))].sort((a, b) => a - b);
  return ids.map((id) => {
    const r = spawnSync('tshark', ['-r', file, ...keyOpt, '-q', '-z', `follow,tls,raw,${id}`], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const body = r.stdout.split('\n').filter((l) => /^\t?[0-9a-f]+$/.test(l));
    return {
      node0: (/^Node 0: (.*)$/m.exec(r.stdout)?.[1] ?? '').replace(/[[\]]/g, ''),
      first: Buffer.from(body.filter((l) => !l.startsWith('\t')).join(''), 'hex'),
      second: Buffer.from(body.filter((l) => l.startsWith('\t')).map((l) => l.slice(1)).join(''), 'hex'),
    };
  });
}
