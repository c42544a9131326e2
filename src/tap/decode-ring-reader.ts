/**
 * The worker's side of `RingQueue`: turns its messages back into connection
 * events for a consumer (the tap's decoding), in order.
 *
 * A data event's bytes are a view into the ring, valid only while the
 * consumer runs: its ring space is given back when the consumer returns, and
 * the forwarding thread may write the next reads there at once. The consumer
 * may change the bytes (a WebSocket decoder unmasking in place) and must copy
 * what it keeps, as every layer above the capture reader does for the
 * recycled buffers of a file read. Copying each chunk out instead cost fresh
 * memory per read (page faults, collection): most of what decoding cost
 * beside forwarding.
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
  let ring: SharedArrayBuffer | undefined;
  let released: Int32Array | undefined;
  port.on('message', (m: RingMessage) => {
    if (!m || typeof m !== 'object' || !('kind' in m)) return other(m);
    switch (m.kind) {
      case 'ring':
        ring = m.ring;
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
      event = { kind: 'data', connection: w.connection, direction: w.direction, bytes: Buffer.from(ring!, w.at, w.length), offset: w.offset, time: w.time };
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
    } finally {
      if (w.kind === 'data') Atomics.add(released!, 0, w.cost);
    }
  }
}
