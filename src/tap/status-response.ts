/**
 * A complete HTTP/1.1 answer with a Kubernetes `Status` body, for requests
 * the tap answers itself: client-go shows a Status's message to the user
 * (`error: You must be logged in to the server (…)` for a 401), where plain
 * text would lose the reason.
 */
export function statusResponse(code: number, reason: string, message: string): string {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  const phrase = STATUS_TEXT[code] ?? 'Error';
  return (
    `HTTP/1.1 ${code} ${phrase}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    `Connection: close\r\n\r\n${body}`
  );
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  502: 'Bad Gateway',
};
