/**
 * A hop's own record of what it read and wrote, per session and stream:
 * byte counts and SHA-256 per direction, the exit status it saw, written as
 * one JSON line per session (`serve --record FILE`) when the session ends.
 * It is the ground truth tests hold a capture's decoding against, so it is
 * kept by the hop itself, from the bytes it handled, never from a capture.
 */
import { createHash, type Hash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import type { ExecOutcome } from '../status.js';

export type HopName = 'apiserver' | 'kubelet' | 'runtime';
export type RecordDirection = 'clientToServer' | 'serverToClient';

export interface SessionInfo {
  kind: 'exec' | 'attach' | 'portforward';
  transport: string;
  protocol: string;
  /** 'client': the connection this hop accepted; 'upstream': the one it opened to the next hop. */
  side: 'client' | 'upstream';
  /** The connection's client port (as a capture shows it). */
  clientPort?: number;
  serverPort?: number;
  namespace?: string;
  pod?: string;
  command?: string[];
}

export interface StreamKey {
  port?: number;
  requestId?: string;
}

export interface SessionRecord {
  bytes(role: string, direction: RecordDirection, chunk: Uint8Array, key?: StreamKey): void;
  end(outcome?: ExecOutcome | null): void;
}

interface Tally {
  bytes: number;
  hash: Hash;
}

export interface RecordedStream extends StreamKey {
  role: string;
  clientToServer: { bytes: number; sha256: string };
  serverToClient: { bytes: number; sha256: string };
}

export interface RecordedSession extends SessionInfo {
  hop: HopName;
  startedAt: string;
  endedAt: string;
  streams: RecordedStream[];
  exit: { code: number } | { failed: string } | null;
}

export interface HopRecorder {
  session(info: SessionInfo): SessionRecord;
}

/** A recorder appending to FILE (one JSON object per line), or one that keeps nothing. */
export function hopRecorder(hop: HopName, file: string | undefined, sink?: (s: RecordedSession) => void): HopRecorder | undefined {
  if (!file && !sink) return undefined;
  return {
    session(info) {
      const startedAt = new Date().toISOString();
      const streams = new Map<string, { role: string; key: StreamKey; c2s: Tally; s2c: Tally }>();
      let ended = false;
      return {
        bytes(role, direction, chunk, key = {}) {
          const id = `${role}/${key.port ?? ''}/${key.requestId ?? ''}`;
          let s = streams.get(id);
          if (!s) {
            s = { role, key, c2s: newTally(), s2c: newTally() };
            streams.set(id, s);
          }
          const t = direction === 'clientToServer' ? s.c2s : s.s2c;
          t.bytes += chunk.length;
          t.hash.update(chunk);
        },
        end(outcome) {
          if (ended) return;
          ended = true;
          const rec: RecordedSession = {
            hop,
            ...info,
            startedAt,
            endedAt: new Date().toISOString(),
            streams: [...streams.values()].map((s) => ({
              role: s.role,
              ...s.key,
              clientToServer: digest(s.c2s),
              serverToClient: digest(s.s2c),
            })),
            exit: !outcome ? null : outcome.kind === 'exit' ? { code: outcome.code } : { failed: outcome.message },
          };
          if (file) appendFileSync(file, `${JSON.stringify(rec)}\n`);
          sink?.(rec);
        },
      };
    },
  };
}

function newTally(): Tally {
  return { bytes: 0, hash: createHash('sha256') };
}

function digest(t: Tally): { bytes: number; sha256: string } {
  return { bytes: t.bytes, sha256: t.hash.digest('hex') };
}
