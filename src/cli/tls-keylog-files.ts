/**
 * The I/O edge of `--tls-keylog FILE`: read each key log into a TlsKeyLog. On
 * a live pipe (`decode -`) the files keep growing while the capture runs (an
 * SSLKEYLOGFILE gets a line per handshake), so a lookup that finds no key
 * reads what was appended since, at most every REFRESH_MS.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { TlsKeyLog } from '../tls/keylog.js';

const REFRESH_MS = 50;
/** Largest key log read (a line per secret; a million lines are ~200 MB). */
const MAX_KEYLOG_BYTES = 256 * 1024 * 1024;

interface Watched {
  path: string;
  fd: number | null;
  pos: number;
}

export interface KeyLogFiles {
  keys: TlsKeyLog;
  /** Stop watching (close the files). */
  close(): void;
}

/** Read the key logs; a file that cannot be read throws (a usage error) unless it is watched and may appear later. */
export function openKeyLogFiles(paths: string[], watch: boolean): KeyLogFiles {
  const keys = new TlsKeyLog();
  const files: Watched[] = paths.map((path) => ({ path, fd: null, pos: 0 }));
  const readNew = (f: Watched, final: boolean): void => {
    if (f.fd === null) {
      try {
        f.fd = openSync(f.path, 'r');
      } catch (e) {
        if (watch) return;
        throw new Error(`cannot read ${f.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
    const size = Math.min(fstatSync(f.fd).size, MAX_KEYLOG_BYTES);
    while (f.pos < size) {
      const buf = Buffer.alloc(Math.min(1024 * 1024, size - f.pos));
      const n = readSync(f.fd, buf, 0, buf.length, f.pos);
      if (n <= 0) break;
      f.pos += n;
      keys.addText(buf.subarray(0, n).toString('latin1'));
    }
    if (final) keys.flush();
  };
  for (const f of files) readNew(f, !watch);
  if (watch) {
    let last = 0;
    keys.refresh = () => {
      const now = Date.now();
      if (now - last < REFRESH_MS) return;
      last = now;
      for (const f of files) readNew(f, false);
    };
  }
  return {
    keys,
    close() {
      for (const f of files) {
        if (f.fd !== null) closeSync(f.fd);
        f.fd = null;
      }
    },
  };
}
