/**
 * `--extract DIR`: the application bytes of every stream and direction, each
 * in its own file, and `index.json` describing them (session, stream, role,
 * direction, bytes, sha256), so that `sha256sum DIR/*.bin` can be checked
 * against the summary. Writes are synchronous: event byte views are only
 * valid until the decoder runs again, and file order must follow the wire.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Direction } from '../../common/errors.js';
import type { DecodeSummary, StreamRole, TimelineEvent } from '../../timeline/index.js';
import type { EventFilter } from './filter.js';
import type { Output } from './types.js';

/** File descriptors kept open at once; beyond that the least recently opened are closed and reopened on demand. */
const MAX_OPEN_FILES = 128;

export interface ExtractedFile {
  file: string;
  session: number;
  connection: number;
  streamId: number;
  role: StreamRole;
  direction: Direction;
  port: number | null;
  requestId: string | null;
  bytes: number;
  sha256: string;
}

interface Entry {
  meta: ExtractedFile;
  hash: Hash;
  fd: number | null;
}

export function createExtractOutput(dir: string, filter: EventFilter): Output {
  mkdirSync(dir, { recursive: true });
  const entries = new Map<string, Entry>();
  const open: Entry[] = [];
  const ports = new Map<string, { port: number | null; requestId: string | null }>();

  const entryFor = (ev: Extract<TimelineEvent, { kind: 'stream-data' }>): Entry => {
    const key = `${ev.session}/${ev.streamId}/${ev.direction}`;
    let e = entries.get(key);
    if (!e) {
      const dirName = ev.direction === 'clientToServer' ? 'c2s' : 's2c';
      const file = `session${ev.session}-stream${ev.streamId}-${ev.role}-${dirName}.bin`;
      const pf = ports.get(`${ev.session}/${ev.streamId}`);
      e = {
        meta: {
          file,
          session: ev.session,
          connection: ev.connection,
          streamId: ev.streamId,
          role: ev.role,
          direction: ev.direction,
          port: pf?.port ?? null,
          requestId: pf?.requestId ?? null,
          bytes: 0,
          sha256: '',
        },
        hash: createHash('sha256'),
        fd: null,
      };
      entries.set(key, e);
      writeFileSync(join(dir, file), '');
    }
    if (e.fd === null) {
      if (open.length >= MAX_OPEN_FILES) {
        const old = open.shift()!;
        closeSync(old.fd!);
        old.fd = null;
      }
      e.fd = openSync(join(dir, e.meta.file), 'a');
      open.push(e);
    }
    return e;
  };

  return {
    event(ev: TimelineEvent) {
      if (ev.kind === 'stream-open' && (ev.port !== null || ev.requestId !== null)) {
        ports.set(`${ev.session}/${ev.streamId}`, { port: ev.port, requestId: ev.requestId });
        return;
      }
      if (ev.kind !== 'stream-data' || !filter.keep(ev)) return;
      const e = entryFor(ev);
      let done = 0;
      while (done < ev.bytes.length) done += writeSync(e.fd!, ev.bytes, done, ev.bytes.length - done);
      e.hash.update(ev.bytes);
      e.meta.bytes += ev.bytes.length;
    },
    async finish(_summary: DecodeSummary) {
      for (const e of open) closeSync(e.fd!);
      open.length = 0;
      const files = [...entries.values()].map((e) => ({ ...e.meta, sha256: e.hash.digest('hex') }));
      writeFileSync(join(dir, 'index.json'), JSON.stringify({ files }, null, 2) + '\n');
    },
  };
}
