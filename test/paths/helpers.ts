/**
 * Decode a capture at library level with a PathRecorder beside the
 * decoder, as `kubewire decode` does, so that the linker gets what the CLI
 * gives it. `shiftUs` moves every packet's time (a capture taken on a
 * machine whose clock differs); `cutAt` keeps only the file's first bytes
 * (a capture that ended early).
 */
import { readFileSync } from 'node:fs';
import { CaptureDecoder } from '../../src/tcp/pipeline.js';
import { SessionDecoder } from '../../src/timeline/session-decoder.js';
import type { DecodeSummary, TimelineEvent } from '../../src/timeline/index.js';
import { PathRecorder, type PathSessionInput } from '../../src/paths/index.js';

export interface RecordedDecode {
  summary: DecodeSummary;
  recorder: PathRecorder;
  events: TimelineEvent[];
  inputs: PathSessionInput[];
}

export function decodeForPaths(
  capture: string | Uint8Array,
  opts: { file?: string; shiftUs?: number; cutAt?: number; digests?: boolean; keepEvents?: boolean } = {},
): RecordedDecode {
  let bytes = typeof capture === 'string' ? new Uint8Array(readFileSync(capture)) : capture;
  if (opts.cutAt !== undefined) bytes = bytes.subarray(0, opts.cutAt);
  const decoder = new SessionDecoder({ digests: opts.digests ?? true, frameEvents: false });
  const recorder = new PathRecorder();
  const events: TimelineEvent[] = [];
  const shift = opts.shiftUs ?? 0;
  const take = (evs: TimelineEvent[]) => {
    for (const ev of evs) {
      recorder.event(ev);
      if (opts.keepEvents) events.push(ev);
    }
  };
  const reader = new CaptureDecoder((ev) => {
    if (shift !== 0 && 'time' in ev && typeof ev.time === 'number') (ev as { time: number }).time += shift;
    take(decoder.push(ev));
  });
  reader.push(bytes);
  reader.end();
  take(decoder.finish());
  const summary = decoder.summary();
  const file = opts.file ?? (typeof capture === 'string' ? capture : 'capture');
  return { summary, recorder, events, inputs: summary.sessions.map((s) => ({ file, summary: s, record: recorder.record(s.session) })) };
}
