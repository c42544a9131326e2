/**
 * Answers written straight onto a socket that asked for an upgrade (Node
 * hands it over before any HTTP response object exists): the head, a
 * refusal with a Kubernetes `Status` body, and no Nagle delay once the
 * socket carries a session. Shared by the API server and the hops.
 */
import type { Duplex } from 'node:stream';

/** A response (or request) head: the first line, the header lines in order, the blank line. */
export function formatHead(first: string, headers: ReadonlyArray<readonly [string, string]>): string {
  return `${first}\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}

/**
 * A plain HTTP error answer, after which the connection ends. `headers` go
 * before the body's own (a `Sec-WebSocket-Version` the client should use).
 */
export function refuse(socket: Duplex, status: number, reason: string, body?: object, headers: ReadonlyArray<readonly [string, string]> = []): void {
  answerAndClose(socket, status, reason, body ? ['application/json', JSON.stringify(body)] : null, headers);
}

/** A plain-text refusal, as the kubelet's HTTP handlers write an error (status, the message, no Status object). */
export function refuseText(socket: Duplex, status: number, reason: string, text: string): void {
  answerAndClose(socket, status, reason, ['text/plain; charset=utf-8', text]);
}

function answerAndClose(socket: Duplex, status: number, reason: string, body: [type: string, text: string] | null, headers: ReadonlyArray<readonly [string, string]> = []): void {
  const own: Array<[string, string]> = body
    ? [['Content-Type', body[0]], ['Content-Length', String(Buffer.byteLength(body[1]))], ['Connection', 'close']]
    : [['Content-Length', '0'], ['Connection', 'close']];
  socket.end(formatHead(`HTTP/1.1 ${status} ${reason}`, [...headers, ...own]) + (body?.[1] ?? ''));
}

/** A failure `metav1.Status`, as the API server and the kubelet answer. */
export function statusBody(code: number, reason: string, message: string): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

/** Nagle off: a session's small frames go out at once (a duplex that is not a socket has no such setting). */
export function setNoDelay(socket: Duplex): void {
  (socket as Duplex & { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
}
