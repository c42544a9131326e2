/** Errors of the HTTP/2 layer: one type, a stable code, the byte offset. */
import { KubewireError, type Direction, type ErrorScope } from '../common/errors.js';

export function http2Error(code: string, scope: ErrorScope, message: string, loc: { offset?: number; direction?: Direction; connection?: number; streamId?: number } = {}): KubewireError {
  return new KubewireError('http2', code, scope, message, loc);
}
