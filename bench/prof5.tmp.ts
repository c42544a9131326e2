import { linkPaths, PathRecorder } from '../src/paths/index.js';
import * as ev from '../src/paths/evidence.js';
import { CaptureDecoder } from '../src/tcp/pipeline.js';
import { SessionDecoder } from '../src/timeline/session-decoder.js';
import { execPathCapture, manyExecs } from '../test/helpers/exec-paths.js';
const capture = execPathCapture(manyExecs(1000, { spacingUs: 2_000 }));
const decoder = new SessionDecoder({ frameEvents: false, digests: true });
const rec = new PathRecorder();
const reader = new CaptureDecoder((e) => { for (const x of decoder.push(e)) rec.event(x); });
reader.push(capture); reader.end(); for (const x of decoder.finish()) rec.event(x);
const summary = decoder.summary();
console.log(summary.sessions.slice(0, 3).map((s) => [s.end, s.startTime, s.endTime]));
const inputs = summary.sessions.map((s) => ({ file: 'b', summary: s, record: rec.record(s.session) }));
for (let i = 0; i < 3; i++) { let t = performance.now(); linkPaths(inputs); console.log('link', performance.now() - t); }
