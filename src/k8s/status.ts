/**
 * The error channel/stream of remote command.
 *
 * V4/V5: one JSON `metav1.Status`. The cause type is serialised under the
 * key `reason` (`StatusCause.Type` has the JSON tag `reason`), so the exit
 * code is the `message` of the cause whose `reason` is `ExitCode`; client-go
 * parses it as an unsigned 8-bit decimal. Match on fields, never on layout:
 * newer servers omit `metadata` and causes.
 * V1–V3: plain UTF-8 text on failure, nothing on success.
 * Every version: an empty stream means success.
 */
import { KubewireError } from '../common/errors.js';
import type { ErrorLocation } from '../common/errors.js';

export const STATUS_SUCCESS = 'Success';
export const STATUS_FAILURE = 'Failure';
export const REASON_NON_ZERO_EXIT_CODE = 'NonZeroExitCode';
export const CAUSE_EXIT_CODE = 'ExitCode';
export const REASON_INTERNAL_ERROR = 'InternalError';

export interface StatusCause {
  /** `StatusCause.Type`, JSON key `reason`. */
  reason?: string;
  message?: string;
  field?: string;
}

export interface RemoteCommandStatus {
  /**
   * success: Success status or empty stream; exit: NonZeroExitCode with a
   * valid exit code; failure: any other failure (text errors included);
   * unknown: a status value client-go does not know.
   */
  outcome: 'success' | 'exit' | 'failure' | 'unknown';
  /** `status` field ('' for text errors and empty streams). */
  status: string;
  reason: string | null;
  message: string | null;
  /** HTTP-like `code` field, when present. */
  code: number | null;
  /** From the `ExitCode` cause (0–255), when the status is NonZeroExitCode. */
  exitCode: number | null;
  causes: StatusCause[];
  /** The bytes as text. */
  raw: string;
}

export interface StatusParseResult {
  status: RemoteCommandStatus;
  /** Problems a client would trip over; the status is still as complete as possible. */
  diagnostics: KubewireError[];
}

const UTF8 = new TextDecoder('utf-8');

/** Parse a complete error-stream body. `format` is `json` for V4/V5, `text` before. */
export function parseStatus(bytes: Uint8Array, format: 'json' | 'text', where: ErrorLocation = {}): StatusParseResult {
  const raw = UTF8.decode(bytes);
  const diagnostics: KubewireError[] = [];
  const base: RemoteCommandStatus = {
    outcome: 'success',
    status: '',
    reason: null,
    message: null,
    code: null,
    exitCode: null,
    causes: [],
    raw,
  };
  if (bytes.length === 0) return { status: base, diagnostics };
  if (format === 'text') return { status: { ...base, outcome: 'failure', message: raw }, diagnostics };

  const problem = (code: string, message: string): void => {
    diagnostics.push(new KubewireError('k8s', code, 'stream', message, where));
  };
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch {
    problem('K8S_STATUS_NOT_JSON', 'error stream does not hold a JSON Status');
    return { status: { ...base, outcome: 'failure', message: raw }, diagnostics };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    problem('K8S_STATUS_NOT_OBJECT', 'error stream JSON is not an object');
    return { status: { ...base, outcome: 'failure', message: raw }, diagnostics };
  }
  const o = doc as Record<string, unknown>;
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const status: RemoteCommandStatus = {
    ...base,
    status: str(o.status) ?? '',
    reason: str(o.reason),
    message: str(o.message),
    code: typeof o.code === 'number' ? o.code : null,
  };
  const details = o.details;
  if (typeof details === 'object' && details !== null && Array.isArray((details as Record<string, unknown>).causes)) {
    for (const c of (details as { causes: unknown[] }).causes) {
      if (typeof c !== 'object' || c === null) continue;
      const r = c as Record<string, unknown>;
      const cause: StatusCause = {};
      if (typeof r.reason === 'string') cause.reason = r.reason;
      if (typeof r.message === 'string') cause.message = r.message;
      if (typeof r.field === 'string') cause.field = r.field;
      status.causes.push(cause);
    }
  }
  // client-go errorDecoderV4: Success → ok; Failure+NonZeroExitCode → exit code; Failure → message; else unknown.
  if (status.status === STATUS_SUCCESS) {
    status.outcome = 'success';
  } else if (status.status === STATUS_FAILURE) {
    status.outcome = 'failure';
    if (status.reason === REASON_NON_ZERO_EXIT_CODE) {
      const cause = status.causes.find((c) => c.reason === CAUSE_EXIT_CODE);
      if (cause === undefined) {
        problem('K8S_STATUS_NO_EXIT_CODE', 'NonZeroExitCode status without an ExitCode cause');
      } else if (cause.message === undefined || !/^[0-9]+$/.test(cause.message) || Number(cause.message) > 255) {
        problem('K8S_STATUS_BAD_EXIT_CODE', `invalid exit code value ${JSON.stringify(cause.message ?? null)}`);
      } else {
        status.exitCode = Number(cause.message);
        status.outcome = 'exit';
      }
    }
  } else {
    status.outcome = 'unknown';
    problem('K8S_STATUS_UNKNOWN', `unknown status ${JSON.stringify(status.status)}`);
  }
  return { status, diagnostics };
}

// --- encoding ---------------------------------------------------------------

export interface StatusInput {
  status: string;
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
  code?: number;
  /** Emit `"metadata":{}` first, as metav1.Status does (default true). */
  metadata?: boolean;
}

/**
 * JSON bytes exactly as Go's `json.Marshal(metav1.Status)` writes them:
 * field order of the struct, empty fields omitted, and `<`, `>`, `&`,
 * U+2028, U+2029 escaped as Go does.
 */
export function encodeStatus(s: StatusInput): Uint8Array {
  const parts: string[] = [];
  if (s.metadata ?? true) parts.push('"metadata":{}');
  if (s.status) parts.push(`"status":${goString(s.status)}`);
  if (s.message) parts.push(`"message":${goString(s.message)}`);
  if (s.reason) parts.push(`"reason":${goString(s.reason)}`);
  if (s.details) {
    const d: string[] = [];
    if (s.details.name) d.push(`"name":${goString(s.details.name)}`);
    if (s.details.group) d.push(`"group":${goString(s.details.group)}`);
    if (s.details.kind) d.push(`"kind":${goString(s.details.kind)}`);
    if (s.details.uid) d.push(`"uid":${goString(s.details.uid)}`);
    if (s.details.causes && s.details.causes.length > 0) {
      const cs = s.details.causes.map((c) => {
        const f: string[] = [];
        if (c.reason) f.push(`"reason":${goString(c.reason)}`);
        if (c.message) f.push(`"message":${goString(c.message)}`);
        if (c.field) f.push(`"field":${goString(c.field)}`);
        return `{${f.join(',')}}`;
      });
      d.push(`"causes":[${cs.join(',')}]`);
    }
    if (s.details.retryAfterSeconds) d.push(`"retryAfterSeconds":${s.details.retryAfterSeconds}`);
    parts.push(`"details":{${d.join(',')}}`);
  }
  if (s.code) parts.push(`"code":${s.code}`);
  return new TextEncoder().encode(`{${parts.join(',')}}`);
}

/** `{"metadata":{},"status":"Success"}` */
export function encodeSuccessStatus(): Uint8Array {
  return encodeStatus({ status: STATUS_SUCCESS });
}

/**
 * A non-zero exit as Kubernetes writes it. `detail` is the `%v` of the exit
 * error; by default what the apiserver's stream translator gets from
 * client-go: `command terminated with exit code N`.
 */
export function encodeExitCodeStatus(exitCode: number, detail = `command terminated with exit code ${exitCode}`): Uint8Array {
  if (!Number.isInteger(exitCode) || exitCode < 0) throw new RangeError(`exit code ${exitCode} out of range`);
  return encodeStatus({
    status: STATUS_FAILURE,
    message: `command terminated with non-zero exit code: ${detail}`,
    reason: REASON_NON_ZERO_EXIT_CODE,
    details: { causes: [{ reason: CAUSE_EXIT_CODE, message: String(exitCode) }] },
  });
}

/** `apierrors.NewInternalError(err)` as JSON. */
export function encodeInternalErrorStatus(error: string): Uint8Array {
  return encodeStatus({
    status: STATUS_FAILURE,
    message: `Internal error occurred: ${error}`,
    reason: REASON_INTERNAL_ERROR,
    details: { causes: [{ message: error }] },
    code: 500,
  });
}

/** V1–V3 error streams: the message text itself. */
export function encodeTextError(message: string): Uint8Array {
  return new TextEncoder().encode(message);
}

function goString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
