import { linkPaths, PathRecorder } from '../src/paths/index.js';
import { CaptureDecoder } from '../src/tcp/pipeline.js';
import { SessionDecoder } from '../src/timeline/session-decoder.js';
import { execPathCapture, manyExecs } from '../test/helpers/exec-paths.js';
const capture = execPathCapture(manyExecs(1000, { spacingUs: 2_000 }));
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
for (let r = 0; r < 4; r++) for (const mode of [0, 1, 2]) {
  (globalThis as any).gc?.();
  const c0 = cpu();
  const decoder = new SessionDecoder({ frameEvents: false, digests: true });
  const rec = mode ? new PathRecorder() : null;
  const reader = new CaptureDecoder((ev) => { const evs = decoder.push(ev); if (rec) for (const e of evs) rec.event(e); });
  for (let o = 0; o < capture.length; o += 1 << 20) reader.push(capture.subarray(o, Math.min(capture.length, o + (1 << 20))));
  reader.end(); const f = decoder.finish(); if (rec) for (const e of f) rec.event(e);
  const summary = decoder.summary();
  const c1 = cpu();
  let n = 0;
  if (mode === 2) n = linkPaths(summary.sessions.map((s) => ({ file: 'b', summary: s, record: rec!.record(s.session) }))).paths.length;
  const c2 = cpu();
  console.log(['plain', 'record', 'record+link'][mode], 'decode', (c1 - c0).toFixed(0), 'link', (c2 - c1).toFixed(0), n);
}
