/**
 * The tap bench's decoding worker: the tap's decoder on the ring, as
 * `kubewire tap` runs it, counting events instead of printing them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readRing } from '../src/tap/decode-ring-reader.js';
import { SessionDecoder } from '../src/timeline/index.js';

const decoder = new SessionDecoder({ ...(workerData as object), ownsInput: true });
let events = 0;
readRing(
  parentPort!,
  (ev) => {
    events += decoder.push(ev).length;
  },
  (m) => {
    if ((m as { finish?: boolean }).finish) {
      events += decoder.finish().length;
      parentPort!.postMessage({ events, diagnostics: decoder.diagnosticCount });
    }
  },
);
parentPort!.postMessage({ ready: true });
