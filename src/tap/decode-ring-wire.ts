/**
 * What crosses between `RingQueue` (forwarding thread) and `readRing`
 * (decoding worker): connection events as plain objects. A data event's
 * bytes stay in the ring (`at`, `length`; `cost` is the ring space it takes);
 * a diagnostic's error travels as its fields, since structured cloning
 * keeps only the message of an Error subclass.
 */
import { KubewireError, type Direction, type ErrorLocation, type ErrorScope, type Layer } from '../common/errors.js';
import type { ConnectionClose, ConnectionData, ConnectionEvent, ConnectionGap, ConnectionOpen } from '../tcp/types.js';

/** A diagnostic's error as its fields: what it is and where (the location of `KubewireError`). */
export interface WireError extends ErrorLocation {
  layer: Layer;
  code: string;
  scope: ErrorScope;
  bare: string;
}

export type WireEvent =
  | ConnectionOpen
  | ConnectionGap
  | ConnectionClose
  | (Omit<ConnectionData, 'bytes'> & { at: number; length: number; cost: number })
  | { kind: 'diagnostic'; connection?: number; time?: number; error: WireError };

/** Forwarding thread → worker. */
export type RingMessage =
  | { kind: 'ring'; ring: SharedArrayBuffer; released: SharedArrayBuffer }
  | { kind: 'events'; events: WireEvent[] }
  | { kind: 'flush'; id: number };

/** Worker → forwarding thread, for the ring; the application's own messages are anything else. */
export interface RingReply {
  ring: { kind: 'flushed'; id: number } | { kind: 'consumer-error'; message: string; connection?: number; direction?: Direction };
}

/** A non-data event as it crosses (data events are made by `RingQueue`, which places the bytes). */
export function toWire(event: Exclude<ConnectionEvent, ConnectionData>): WireEvent {
  if (event.kind !== 'diagnostic') return event;
  const wire: WireEvent = { kind: 'diagnostic', error: errorToWire(event.error) };
  if (event.connection !== undefined) wire.connection = event.connection;
  if (event.time !== undefined) wire.time = event.time;
  return wire;
}

export function errorToWire(e: KubewireError): WireError {
  const w: WireError = { layer: e.layer, code: e.code, scope: e.scope, bare: e.bare };
  for (const key of ['file', 'offset', 'direction', 'packet', 'block', 'streamId', 'channel', 'connection'] as const) {
    if (e[key] !== undefined) (w as unknown as Record<string, unknown>)[key] = e[key];
  }
  return w;
}

export function errorFromWire(w: WireError): KubewireError {
  const { layer, code, scope, bare, ...location } = w;
  return new KubewireError(layer, code, scope, bare, location);
}
