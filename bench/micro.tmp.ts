import { createHash } from 'node:crypto';
import { DirectionRecord } from '../src/paths/stream-record.js';
const buf = new Uint8Array(1024).map((_, i) => i * 7);
for (let r = 0; r < 3; r++) {
let t = performance.now();
for (let s = 0; s < 6000; s++) { const h = createHash('sha256'); for (let j = 0; j < 4; j++) { h.update(buf); h.copy().digest('hex'); } }
const a = performance.now() - t;
t = performance.now();
for (let s = 0; s < 6000; s++) { const d = new DirectionRecord(); for (let j = 0; j < 4; j++) d.add(j * 1024, buf, j); }
const b = performance.now() - t;
t = performance.now();
let h1 = 0;
for (let s = 0; s < 6000; s++) for (let j = 0; j < 4; j++) for (let i = 0; i < 1024; i++) { h1 = Math.imul(h1 ^ buf[i]!, 16777619); }
const c = performance.now() - t;
console.log('sha', a.toFixed(0), 'record', b.toFixed(0), 'jsfnv', c.toFixed(0), h1);
}
