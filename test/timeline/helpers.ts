/**
 * Build connection events by hand: a scripted conversation of byte chunks in
 * both directions, with capture times, as TCP reassembly would emit them.
 */
import type { Direction } from '../../src/common/errors.js';
import type { ConnectionEvent, Endpoint } from '../../src/tcp/types.js';
import { SessionDecoder, type SessionDecoderOptions, type TimelineEvent } from '../../src/timeline/index.js';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

export interface Step {
  d: Direction;
  bytes: Uint8Array;
}

export const C = 'clientToServer' as const;
export const S = 'serverToClient' as const;

export interface ScriptOptions {
  connection?: number;
  client?: Endpoint;
  server?: Endpoint;
  startedLate?: boolean;
  /** µs of the first event; each step adds 1000 µs. */
  t0?: number;
  close?: 'fin' | 'rst' | null;
}

export function script(steps: Step[], o: ScriptOptions = {}): ConnectionEvent[] {
  const connection = o.connection ?? 1;
  let t = o.t0 ?? 1_700_000_000_000_000;
  const out: ConnectionEvent[] = [
    {
      kind: 'open',
      connection,
      client: o.client ?? { address: '127.0.0.1', port: 54321 },
      server: o.server ?? { address: '127.0.0.1', port: 6443 },
      time: t,
      startedLate: o.startedLate ?? false,
    },
  ];
  const offset = { clientToServer: 0, serverToClient: 0 };
  for (const s of steps) {
    t += 1000;
    out.push({ kind: 'data', connection, direction: s.d, bytes: s.bytes, offset: offset[s.d], time: t });
    offset[s.d] += s.bytes.length;
  }
  if (o.close !== null) out.push({ kind: 'close', connection, reason: o.close ?? 'fin', direction: C, time: t + 1000 });
  return out;
}

/** Split every data event into the given number of pieces (cut points derived from `seed`). */
export function rechunk(events: ConnectionEvent[], cut: (len: number) => number[]): ConnectionEvent[] {
  const out: ConnectionEvent[] = [];
  for (const e of events) {
    if (e.kind !== 'data') {
      out.push(e);
      continue;
    }
    const points = [...new Set(cut(e.bytes.length).filter((p) => p > 0 && p < e.bytes.length))].sort((a, b) => a - b);
    let prev = 0;
    for (const p of [...points, e.bytes.length]) {
      out.push({ ...e, bytes: e.bytes.subarray(prev, p), offset: e.offset + prev });
      prev = p;
    }
  }
  return out;
}

export function decode(events: ConnectionEvent[], opts?: SessionDecoderOptions): { events: TimelineEvent[]; decoder: SessionDecoder } {
  const decoder = new SessionDecoder(opts);
  const all: TimelineEvent[] = [];
  for (const e of events) all.push(...decoder.push(e));
  all.push(...decoder.finish());
  return { events: all, decoder };
}

export function sha256(b: Uint8Array | string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return createHashHex(typeof b === 'string' ? enc(b) : b);
}

import { createHash } from 'node:crypto';
function createHashHex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

export function cat(...parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
