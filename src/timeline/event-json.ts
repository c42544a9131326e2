/**
 * The stable JSON (NDJSON) form of a timeline event: bytes become
 * `{ length, base64? }`, errors their `toJSON()`, everything else as is.
 */
import type { TimelineEvent } from './events.js';

export interface EventJsonOptions {
  /** Include the bytes of `stream-data` events and HTTP bodies as base64 (default false: length only). */
  bytes?: boolean;
}

export function timelineEventToJson(ev: TimelineEvent, opts: EventJsonOptions = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ev)) {
    if (v instanceof Uint8Array) {
      out[k === 'bytes' ? 'length' : `${k}Length`] = v.length;
      if (opts.bytes) out[k === 'bytes' ? 'base64' : `${k}Base64`] = Buffer.from(v.buffer, v.byteOffset, v.length).toString('base64');
    } else if ((ev.kind === 'diagnostic' || ev.kind === 'note') && k === 'error') {
      out[k] = ev.error.toJSON();
    } else if (v !== undefined) {
      out[k] = v;
    }
  }
  return out;
}
