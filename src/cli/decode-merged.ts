/**
 * `kubewire decode a.pcap b.pcapng …`: several captures decoded as one,
 * merged by (corrected) timestamp. The plan is checked before any output is
 * made (usage errors); the run reads every file in chunks through one TCP
 * reassembler, so the same connection captured twice is one connection.
 * A file that cannot be read ends alone: the others are decoded, and the
 * exit code still says an input was unreadable (2).
 */
import { statSync } from 'node:fs';
import { printable } from '../common/printable.js';
import { SECRETS_TLS_KEY_LOG } from '../capture/types.js';
import { decodeMergedCaptures } from '../tcp/merged-pipeline.js';
import type { ConnectionEvent } from '../tcp/types.js';
import type { TlsKeyLog } from '../tls/keylog.js';
import type { SessionDecoder } from '../timeline/session-decoder.js';
import type { TimelineEvent } from '../timeline/events.js';
import type { DecodeSummary } from '../timeline/summary-types.js';
import { parseClockOffsets } from './clock-offsets.js';
import { EXIT_DIAGNOSTICS, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import type { Output } from './output/types.js';
import type { Progress } from './progress.js';

export interface MergePlan {
  inputs: string[];
  clockOffsetsUs: number[];
  /** Bytes of all the files that could be sized (for progress), or null when none. */
  total: number | null;
}

/** Checks the inputs and `--clock-offset`s; throws an Error worded for the user (a usage error). */
export function planMerge(inputs: string[], clockOffset: readonly string[]): MergePlan {
  if (inputs.includes('-')) {
    throw new Error(
      inputs.length > 1
        ? 'standard input (-) is decoded alone: it cannot be merged with other captures (save it to a file first)'
        : '--clock-offset corrects capture files merged by time; standard input (-) is decoded alone',
    );
  }
  const clockOffsetsUs = parseClockOffsets(clockOffset, inputs);
  let total: number | null = null;
  for (const f of inputs) {
    try {
      const st = statSync(f);
      if (st.isFile()) total = (total ?? 0) + st.size;
    } catch {
      // reported when the merge reads it (the other files still decode)
    }
  }
  return { inputs, clockOffsetsUs, total };
}

export interface MergedRun {
  io: { stderr: NodeJS.WritableStream };
  decoder: SessionDecoder;
  deliver: (events: TimelineEvent[]) => void;
  output: Output;
  keys: TlsKeyLog;
  progress: Progress | null;
  /** Close the key log files (after reading). */
  closeKeys: () => void;
  /** What the summary gains before it is shown (the paths). */
  finishSummary?: (summary: DecodeSummary) => DecodeSummary;
}

/** Reads and decodes every input of the plan, finishes the output, and returns the exit code. */
export async function runMerged(plan: MergePlan, run: MergedRun): Promise<number> {
  const { io, decoder, deliver, output, keys, progress } = run;
  let capture;
  try {
    capture = await decodeMergedCaptures(plan.inputs, (ev: ConnectionEvent) => deliver(decoder.push(ev)), {
      names: plan.inputs,
      clockOffsetsUs: plan.clockOffsetsUs,
      onChunk: (_input, bytes) => progress?.update(bytes),
      onSecrets: (s) => {
        if (s.secretsType === SECRETS_TLS_KEY_LOG) keys.addSecretsBlock(s.data);
      },
    });
  } finally {
    progress?.done();
    run.closeKeys();
  }
  deliver(decoder.finish());
  if (keys.stats.malformed > 0) {
    io.stderr.write(`kubewire decode: warning: ${keys.stats.malformed} malformed TLS key log line${keys.stats.malformed === 1 ? '' : 's'} skipped\n`);
  }
  // An input that gave nothing at all (missing, not a capture, empty) is an unreadable input.
  let unreadable = 0;
  for (const input of capture.inputs) {
    if (!input.failed || input.packets > 0) continue;
    unreadable++;
    io.stderr.write(`kubewire decode: ${printable(input.name)} is not a readable pcap or pcapng capture${input.firstError ? ` (${printable(input.firstError)})` : ''}\n`);
  }
  if (unreadable === capture.inputs.length) return EXIT_USAGE;
  const summary = decoder.summary();
  await output.finish(run.finishSummary ? run.finishSummary(summary) : summary);
  if (unreadable > 0) return EXIT_USAGE;
  return decoder.diagnosticCount > 0 || capture.diagnostics > 0 ? EXIT_DIAGNOSTICS : EXIT_OK;
}
