/**
 * The worker's side of `RingQueue`: turns its messages back into connection
 * events for a consumer (the tap's decoding), in order.
 *
 * Each data chunk is copied out of the ring into a buffer of its own before
 * its ring space is given back, so the consumer owns the bytes: it may keep
 * views into them for as long as it likes, and change them (a WebSocket
 * decoder unmasking in place).
 */
import type { MessagePort } from 'node:worker_threads';
import type { ConnectionEvent } from '../tcp/types.js';
import { errorFromWire, type RingMessage, type WireEvent } from './decode-ring-wire.js';

/**
 * Feed `consumer` from the ring messages arriving on `port`; every other
 * message goes to `other`. A consumer that throws is reported to the
 * forwarding thread, and the next event is delivered as usual.
 */
export function readRing(port: MessagePort, consumer: (event: ConnectionEvent) => void, other: (message: unknown) => void): void {
  let bytes: Uint8Array | undefined;
  let released: Int32Array | undefined;
  port.on('message', (m: RingMessage) => {
    if (!m || typeof m !== 'object' || !('kind' in m)) return other(m);
    switch (m.kind) {
      case 'ring':
        bytes = new Uint8Array(m.ring);
        released = new Int32Array(m.released);
        return;
      case 'events':
        for (const w of m.events) deliver(w);
        return;
      case 'flush':
        port.postMessage({ ring: { kind: 'flushed', id: m.id } });
        return;
      default:
        return other(m);
    }
  });

  function deliver(w: WireEvent): void {
    let event: ConnectionEvent;
    if (w.kind === 'data') {
      // Not Buffer.from(view): it copies element by element; allocUnsafeSlow keeps it out of the shared pool.
      const own = Buffer.allocUnsafeSlow(w.length);
      own.set(bytes!.subarray(w.at, w.at + w.length));
      Atomics.add(released!, 0, w.cost);
      event = { kind: 'data', connection: w.connection, direction: w.direction, bytes: own, offset: w.offset, time: w.time };
      if (w.packet !== undefined) event.packet = w.packet;
    } else if (w.kind === 'diagnostic') {
      event = { kind: 'diagnostic', error: errorFromWire(w.error) };
      if (w.connection !== undefined) event.connection = w.connection;
      if (w.time !== undefined) event.time = w.time;
    } else event = w;
    try {
      consumer(event);
    } catch (error) {
      const direction = event.kind === 'data' || event.kind === 'gap' ? event.direction : undefined;
      port.postMessage({ ring: { kind: 'consumer-error', message: error instanceof Error ? error.message : String(error), connection: event.connection, direction } });
    }
  }
}
