/**
 * `npm run bench [-- --json] [-- GROUP…]`: runs every `bench/*.bench.ts` and
 * prints a table (or JSON) of ours vs peer with the ratio.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Table from 'cli-table3';
import type { Bench, BenchResult } from './harness.js';
import { machineName } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const json = args.includes('--json');
const groups = args.filter((a) => !a.startsWith('--'));

const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort();

const all: BenchResult[] = [];
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: Bench };
  const bench = mod.default;
  if (groups.length && !groups.includes(bench.group)) continue;
  if (!json) process.stderr.write(`running ${bench.group} (${file})…\n`);
  const results = await bench.run();
  all.push(...results);
  if (!json) print(results, bench.group);
}

if (json) {
  process.stdout.write(JSON.stringify(all, null, 2) + '\n');
} else {
  process.stdout.write(`machine: ${machineName()}\n`);
}

function fmt(n: number | null): string {
  if (n === null) return '—';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(n >= 100 ? 0 : 2);
}

function print(results: BenchResult[], group: string): void {
  // Colour only on a terminal, and never with NO_COLOR (as the CLI).
  const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
  const t = new Table({
    head: ['benchmark', 'unit', 'kubewire', 'peer', 'ratio', 'target', 'notes'],
    style: color ? {} : { head: [], border: [] },
  });
  for (const r of results) {
    t.push([
      r.name,
      r.unit,
      fmt(r.ours),
      r.peer === null ? '—' : `${fmt(r.peer)} (${r.peerName ?? 'peer'})`,
      r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`,
      r.target ?? '',
      r.notes ?? '',
    ]);
  }
  process.stdout.write(`\n${group}\n${t.toString()}\n`);
}
