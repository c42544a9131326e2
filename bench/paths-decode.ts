/**
 * The decode both path-linking benches time: a capture decoded as
 * `decode --summary --json` decodes it (1 MiB chunks, digests, no frame
 * events), with a PathRecorder fed every event when one is given.
 */
import type { PathRecorder } from '../src/paths/index.js';
import { CaptureDecoder } from '../src/tcp/pipeline.js';
import type { DecodeSummary } from '../src/timeline/index.js';
import { SessionDecoder } from '../src/timeline/session-decoder.js';

export function decodeForLinking(capture: Uint8Array, recorder: PathRecorder | null): DecodeSummary {
  const decoder = new SessionDecoder({ frameEvents: false, digests: true });
  const take = recorder
    ? (evs: ReturnType<SessionDecoder['push']>) => {
        for (let i = 0; i < evs.length; i++) recorder.event(evs[i]!);
      }
    : (_evs: ReturnType<SessionDecoder['push']>) => {};
  const reader = new CaptureDecoder((ev) => take(decoder.push(ev)));
  for (let o = 0; o < capture.length; o += 1 << 20) reader.push(capture.subarray(o, Math.min(capture.length, o + (1 << 20))));
  reader.end();
  take(decoder.finish());
  return decoder.summary();
}
