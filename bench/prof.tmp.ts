import { linkPaths, PathRecorder } from '../src/paths/index.js';
import { CaptureDecoder } from '../src/tcp/pipeline.js';
import { SessionDecoder } from '../src/timeline/session-decoder.js';
import { execPathCapture, manyExecs } from '../test/helpers/exec-paths.js';
const capture = execPathCapture(manyExecs(1000, { spacingUs: 2_000 }));
for (let round = 0; round < 3; round++) {
const evs: any[] = [];
const decoder = new SessionDecoder({ frameEvents: false, digests: true });
let t = performance.now();
const reader = new CaptureDecoder((ev) => { for (const e of decoder.push(ev)) if (e.kind === 'stream-data') evs.push({ ...e, bytes: e.bytes.slice() }); else evs.push(e); });
reader.push(capture); reader.end(); decoder.finish();
const dec = performance.now() - t;
t = performance.now();
const rec = new PathRecorder();
for (const e of evs) rec.event(e);
const recMs = performance.now() - t;
const summary = decoder.summary();
t = performance.now();
const r = linkPaths(summary.sessions.map((s) => ({ file: 'b', summary: s, record: rec.record(s.session) })));
console.log('decode', dec.toFixed(0), 'record', recMs.toFixed(0), 'link', (performance.now() - t).toFixed(0), r.paths.length, evs.length);
}
