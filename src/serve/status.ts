/**
 * How an exec ends, as Kubernetes reports it on the error stream/channel:
 * V4/V5 a JSON `metav1.Status` (success included), V1–V3 plain text on
 * failure only. The bytes come from the k8s layer's encoders.
 */
import {
  encodeExitCodeStatus,
  encodeInternalErrorStatus,
  encodeSuccessStatus,
  encodeTextError,
} from '../k8s/index.js';

/**
 * `detail` (exit) is the `%v` of the exit error after "command terminated with
 * non-zero exit code: " (default: a runtime's `exit status N`); `raw`
 * (failed) means the message is the whole error, not a start failure to prefix
 * (the apiserver's translator relays what the kubelet said).
 */
export type ExecOutcome =
  | { kind: 'exit'; code: number; detail?: string }
  | { kind: 'failed'; message: string; raw?: boolean };

/** The error stream's content for an outcome: JSON status (V4/V5), text on failure (V1–V3), or nothing. */
export function statusPayload(outcome: ExecOutcome, json: boolean): Uint8Array | null {
  if (outcome.kind === 'exit') {
    if (outcome.code === 0) return json ? encodeSuccessStatus() : null;
    // The detail after the colon is runtime-specific; ours reads like Go's exec.ExitError.
    const detail = outcome.detail ?? `exit status ${outcome.code}`;
    return json
      ? encodeExitCodeStatus(outcome.code, detail)
      : encodeTextError(`command terminated with non-zero exit code: ${detail}`);
  }
  const message = outcome.raw ? outcome.message : `error executing command in container: ${outcome.message}`;
  return json ? encodeInternalErrorStatus(message) : encodeTextError(message);
}

/** The V4/V5 status document for an outcome, as text. */
export function statusJson(outcome: ExecOutcome): string {
  return new TextDecoder().decode(statusPayload(outcome, true)!);
}
