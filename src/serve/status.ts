/**
 * How an exec ends, as Kubernetes reports it on the error stream/channel:
 * V4/V5 a JSON `metav1.Status` (success included), V1–V3 plain text on
 * failure only.
 */

export type ExecOutcome = { kind: 'exit'; code: number } | { kind: 'failed'; message: string };

export function statusJson(outcome: ExecOutcome): string {
  if (outcome.kind === 'exit' && outcome.code === 0) return JSON.stringify({ metadata: {}, status: 'Success' });
  if (outcome.kind === 'exit') {
    return JSON.stringify({
      metadata: {},
      status: 'Failure',
      message: `command terminated with non-zero exit code: exit status ${outcome.code}`,
      reason: 'NonZeroExitCode',
      // The cause type is serialised under "reason"; client-go reads the exit code from its message.
      details: { causes: [{ reason: 'ExitCode', message: String(outcome.code) }] },
    });
  }
  return JSON.stringify({
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: error executing command in container: ${outcome.message}`,
    reason: 'InternalError',
    details: { causes: [{ message: outcome.message }] },
    code: 500,
  });
}

/** What the error stream carries for a protocol: JSON (V4/V5), text on failure, or nothing. */
export function statusPayload(outcome: ExecOutcome, json: boolean): string | null {
  if (json) return statusJson(outcome);
  if (outcome.kind === 'exit' && outcome.code === 0) return null;
  if (outcome.kind === 'exit') return `command terminated with non-zero exit code: exit status ${outcome.code}`;
  return outcome.message;
}
