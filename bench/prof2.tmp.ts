import { linkPaths, PathRecorder } from '../src/paths/index.js';
import { CaptureDecoder } from '../src/tcp/pipeline.js';
import { SessionDecoder } from '../src/timeline/session-decoder.js';
import { execPathCapture, manyExecs } from '../test/helpers/exec-paths.js';
const capture = execPathCapture(manyExecs(1000, { spacingUs: 2_000 }));
const decoder = new SessionDecoder({ frameEvents: false, digests: true });
const rec = new PathRecorder();
const reader = new CaptureDecoder((ev) => { for (const e of decoder.push(ev)) rec.event(e); });
reader.push(capture); reader.end(); for (const e of decoder.finish()) rec.event(e);
const summary = decoder.summary();
const inputs = summary.sessions.map((s) => ({ file: 'b', summary: s, record: rec.record(s.session) }));
for (let i = 0; i < 8; i++) { const c0 = process.cpuUsage(); const r = linkPaths(inputs); const c = process.cpuUsage(c0); console.log('link cpu ms', ((c.user + c.system) / 1000).toFixed(0), r.paths.length); }
