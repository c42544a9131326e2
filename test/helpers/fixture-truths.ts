/**
 * The committed fixtures that have ground truth (`fixtures/NAME.truth.json`
 * beside `NAME.pcap` or `NAME.pcapng`), as the fixture script wrote them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FixtureTruth } from '../../scripts/fixtures/truth.js';

export type { DirectionTruth, FixtureTruth, SessionTruth, StreamTruth } from '../../scripts/fixtures/truth.js';

export const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures');

export interface TruthFile {
  /** The `.truth.json` file name. */
  file: string;
  /** Path of its capture. */
  capture: string;
  truth: FixtureTruth;
}

/** Every fixture with ground truth and a capture, in file-name order ([] without a fixtures folder). */
export function fixtureTruths(): TruthFile[] {
  if (!existsSync(FIXTURES)) return [];
  const out: TruthFile[] = [];
  for (const file of readdirSync(FIXTURES).sort()) {
    if (!file.endsWith('.truth.json')) continue;
    const truth = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as FixtureTruth;
    const base = file.slice(0, -'.truth.json'.length);
    const capture = [`${base}.${truth.format}`, `${base}.pcap`, `${base}.pcapng`].map((n) => join(FIXTURES, n)).find((p) => existsSync(p));
    if (capture) out.push({ file, capture, truth });
  }
  return out;
}
