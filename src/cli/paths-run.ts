/**
 * The part of `kubewire decode` that links sessions into paths: a
 * PathRecorder beside the decoder, the links made once input ends, and
 * `--path N`, which needs the links before the first event is shown (a
 * first pass over the file).
 */
import { basename } from 'node:path';
import { SECRETS_TLS_KEY_LOG } from '../capture/types.js';
import { linkPaths, PathRecorder, type ClockOffset, type PathsResult, type PathSummary } from '../paths/index.js';
import { CaptureDecoder, decoderChunks } from '../tcp/pipeline.js';
import { decodeMergedCaptures } from '../tcp/merged-pipeline.js';
import type { MergePlan } from './decode-merged.js';
import type { DecodeSummary } from '../timeline/index.js';
import { SessionDecoder } from '../timeline/session-decoder.js';
import type { SessionDecoderOptions } from '../timeline/options.js';
import type { TlsKeyLog } from '../tls/keylog.js';

/** The summary document with the paths (an addition to the summary contract). */
export interface DecodeSummaryWithPaths extends DecodeSummary {
  paths: PathSummary[];
  /** Per capture file, its clock's offset to the reference file; empty for one file. */
  clockOffsets: ClockOffset[];
}

/** The name a session's file goes by in `paths`: the session's own `files` when the decoder gives them, else the input's. */
export function inputName(input: string): string {
  return input === '-' ? 'standard input' : basename(input);
}

/** Link the sessions of a finished decode. */
export function linkSummary(summary: DecodeSummary, recorder: PathRecorder, input: string): PathsResult {
  const file = inputName(input);
  return linkPaths(
    summary.sessions.map((s) => ({
      // several captures decoded together: each session's first file is its clock
      file: s.files?.[0] ?? file,
      summary: s,
      record: recorder.record(s.session),
    })),
  );
}

export function withPaths(summary: DecodeSummary, paths: PathsResult): DecodeSummaryWithPaths {
  return { ...summary, paths: paths.paths, clockOffsets: paths.clockOffsets };
}

/**
 * `--path N`: decode the file once to link its sessions; the sessions of
 * path N with a label per session saying which hop it is, or why not.
 */
export async function pathSessions(
  input: string,
  n: number,
  decoderOptions: SessionDecoderOptions,
  keys: TlsKeyLog,
  merge: MergePlan | null = null,
): Promise<{ sessions: number[]; marks: Map<number, string>; path: PathSummary } | { error: string }> {
  const decoder = new SessionDecoder({ ...decoderOptions, frameEvents: false, digests: true });
  const recorder = new PathRecorder();
  const onEvent = (ev: Parameters<SessionDecoder['push']>[0]) => {
    for (const e of decoder.push(ev)) recorder.event(e);
  };
  const onSecrets = (s: { secretsType: number; data: Uint8Array }) => {
    if (s.secretsType === SECRETS_TLS_KEY_LOG) keys.addSecretsBlock(s.data);
  };
  if (merge) {
    await decodeMergedCaptures(merge.inputs, onEvent, { names: merge.inputs, clockOffsetsUs: merge.clockOffsetsUs, onSecrets });
  } else {
    const reader = new CaptureDecoder(onEvent, { onSecrets });
    for await (const chunk of decoderChunks(input, reader)) {
      reader.push(chunk);
      if (reader.done) break;
    }
    reader.end();
  }
  for (const e of decoder.finish()) recorder.event(e);
  const linked = linkSummary(decoder.summary(), recorder, input);
  const path = linked.paths[n - 1];
  if (!path) return { error: `--path ${n}: the capture has ${linked.paths.length} path${linked.paths.length === 1 ? '' : 's'}` };
  const marks = new Map<number, string>();
  path.hops.forEach((h, k) => marks.set(h.session, `hop ${k + 1} ${h.hop}`));
  return { sessions: path.hops.map((h) => h.session), marks, path };
}
