/**
 * `--clock-offset FILE=±SECONDS`: per capture, µs to add to its timestamps
 * before merging (a capture taken on a machine whose clock was off). FILE is
 * a capture as named on the command line, or its basename when that names
 * one capture only. Parsed from the decimal text, so that `1.1` is exactly
 * 1,100,000 µs.
 */
import { basename } from 'node:path';

const SECONDS = /^([+-]?)(\d*)(?:\.(\d*))?$/;

/** µs per capture in `inputs`' order (0 where none was given); throws an Error worded for the user. */
export function parseClockOffsets(values: readonly string[], inputs: readonly string[]): number[] {
  const offsets = inputs.map(() => 0);
  const given = inputs.map(() => false);
  for (const v of values) {
    const eq = v.lastIndexOf('=');
    if (eq <= 0) throw new Error(`--clock-offset ${v}: expected FILE=±SECONDS, e.g. node.pcap=-0.25`);
    const file = v.slice(0, eq);
    const us = secondsToMicros(v.slice(eq + 1));
    if (us === null) throw new Error(`--clock-offset ${v}: ${JSON.stringify(v.slice(eq + 1))} is not a number of seconds (e.g. 1.5, -0.000250)`);
    for (const i of matchInputs(file, inputs)) {
      if (given[i]) throw new Error(`--clock-offset: two offsets for ${inputs[i]}`);
      given[i] = true;
      offsets[i] = us;
    }
  }
  return offsets;
}

/** Decimal seconds as µs (fractional below a µs), or null when not a number. */
export function secondsToMicros(text: string): number | null {
  const m = SECONDS.exec(text.trim());
  if (m === null || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const frac = m[3] ?? '';
  let us = Number(m[2] || '0') * 1e6 + Number(frac.slice(0, 6).padEnd(6, '0'));
  if (frac.length > 6) us += Number(`0.${frac.slice(6)}`);
  if (!Number.isFinite(us)) return null;
  return m[1] === '-' ? -us : us;
}

function matchInputs(file: string, inputs: readonly string[]): number[] {
  const exact = inputs.flatMap((name, i) => (name === file ? [i] : []));
  if (exact.length > 0) return exact;
  const byBase = inputs.flatMap((name, i) => (basename(name) === file ? [i] : []));
  if (new Set(byBase.map((i) => inputs[i])).size > 1) {
    throw new Error(`--clock-offset ${file}: names more than one capture (${byBase.map((i) => inputs[i]).join(', ')}); give the path as on the command line`);
  }
  if (byBase.length === 0) throw new Error(`--clock-offset ${file}: not one of the captures (${inputs.join(', ')})`);
  return byBase;
}
