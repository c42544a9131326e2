/**
 * The path-linking bench's work cut into phases for instruction counts:
 *
 *   valgrind --tool=callgrind --dump-before='*CPUUsage*' --callgrind-out-file=OUT \
 *     node --expose-gc --import tsx bench/paths-phases.ts [EXECS] [ROUNDS]
 *
 * Every phase ends with a call of process.cpuUsage(), so callgrind writes
 * one part per phase (OUT.1, OUT.2, …, the last one OUT itself); the phase
 * names are printed in that order on stderr (the first part is start-up and
 * the capture being made). Per round: a forced collection, the decode
 * without linking, a forced collection, the decode with a PathRecorder
 * beside it, then `linkPaths`: as `paths.bench.ts` runs them. Later rounds
 * are the warmed ones; the JIT settles over the first two or three.
 */
import { linkPaths, PathRecorder } from '../src/paths/index.js';
import { execPathCapture, manyExecs } from '../test/helpers/exec-paths.js';
import { decodeForLinking } from './paths-decode.js';

const execs = Number(process.argv[2] ?? 300);
const rounds = Number(process.argv[3] ?? 5);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const capture = execPathCapture(manyExecs(execs, { spacingUs: 2_000 }), { hopDelayUs: 150 });

const names: string[] = [];
const phase = (name: string) => {
  process.cpuUsage();
  names.push(name);
};

const decode = (recorder: PathRecorder | null) => decodeForLinking(capture, recorder);

phase('start-up');
decode(null);
phase('decode-first');
for (let r = 1; r <= rounds; r++) {
  gc();
  phase('gc');
  decode(null);
  phase(`r${r}-plain`);
  gc();
  phase('gc');
  const recorder = new PathRecorder();
  const summary = decode(recorder);
  phase(`r${r}-recorded`);
  const paths = linkPaths(summary.sessions.map((s) => ({ file: 'bench.pcapng', summary: s, record: recorder.record(s.session) }))).paths.length;
  phase(`r${r}-link`);
  if (paths !== execs) throw new Error(`linking found ${paths} paths, not ${execs}`);
}
process.stderr.write(`phases (one callgrind part each, in order): ${names.join(' ')}\n`);
