/**
 * Exec/attach over WebSocket: `v5.channel.k8s.io` (what kubectl 1.30+
 * offers), `v4.channel.k8s.io`, `channel.k8s.io`/'' and the base64 variants.
 * Every message is `[channel][payload]` (base64: a digit and base64 text);
 * V5 adds the `[255, channel]` close signal, the only way to end stdin.
 */
import { Readable, Writable } from 'node:stream';
import { ChannelDecoder, channelFrame, remoteCommandProtocol } from '../k8s/index.js';
import { runExec, type ExecBehaviour, type ExecIO, type ExecRequest } from './exec.js';
import { statusPayload, type ExecOutcome } from './status.js';
import type { WsServerConnection } from './ws-conn.js';

const CH_STDIN = 0;
const CH_STDOUT = 1;
const CH_STDERR = 2;
const CH_ERROR = 3;
const CH_RESIZE = 4;

export function serveWebSocketExec(
  conn: WsServerConnection,
  protocol: string,
  req: ExecRequest,
  behaviour: ExecBehaviour,
  log?: (line: string) => void,
  /** What serves the session: the command here by default; the apiserver's translator relays it to a kubelet. */
  run: (req: ExecRequest, io: ExecIO) => Promise<ExecOutcome> = (r, io) => runExec(r, io, behaviour),
): Promise<void> {
  const info = remoteCommandProtocol(protocol === '' ? 'channel.k8s.io' : protocol)!;
  const base64 = info.base64;
  const channels = new ChannelDecoder({ protocol, direction: 'clientToServer', mode: 'inspect' });

  const send = (channel: number, data: Uint8Array): boolean => {
    const f = channelFrame(channel, data, { base64 });
    return conn.send(f.opcode, f.payload ?? []);
  };
  const output = (channel: number) =>
    new Writable({
      highWaterMark: 256 * 1024,
      write(chunk: Buffer, _enc, cb) {
        if (send(channel, chunk)) cb();
        else void conn.drained().then(() => cb());
      },
    });

  // Input: no flow control in WebSocket, so a full process stdin pauses the socket.
  const inbound = (enabled: boolean) =>
    enabled
      ? new Readable({
          highWaterMark: 256 * 1024,
          read() {
            conn.socket.resume();
          },
        })
      : null;
  const stdin = inbound(req.stdin);
  const resize = inbound(true);

  conn.on('message', (type, data) => {
    const ev = channels.decode(data, type === 'text');
    switch (ev.kind) {
      case 'data':
        if (ev.channel === CH_STDIN && stdin && !stdin.readableEnded) {
          if (!stdin.push(Buffer.from(ev.data))) conn.socket.pause();
        } else if (ev.channel === CH_RESIZE && resize) resize.push(Buffer.from(ev.data));
        break;
      case 'close':
        if (ev.channel === CH_STDIN && stdin && !stdin.readableEnded) {
          stdin.push(null);
          // An ended stdin is never read from again (`read` is not called):
          // if it had paused the socket, only its end can resume it, or the
          // client's pings and Close go unread.
          conn.socket.resume();
        }
        break;
      case 'empty':
      case 'diagnostic':
        break;
    }
  });
  conn.on('close', () => {
    if (stdin && !stdin.readableEnded) stdin.push(null);
    if (resize && !resize.readableEnded) resize.push(null);
  });

  // "Connected": one empty message on the lowest channel we write.
  send(req.stdout ? CH_STDOUT : req.stderr && !req.tty ? CH_STDERR : CH_ERROR, new Uint8Array(0));

  return run(
    req,
    {
      stdin,
      stdout: req.stdout ? output(CH_STDOUT) : null,
      stderr: req.stderr && !req.tty ? output(CH_STDERR) : null,
      resize,
      gone: new Promise<void>((resolve) => conn.on('close', () => resolve())),
      finish: (outcome) => {
        const payload = statusPayload(outcome, info.statusFormat === 'json');
        if (payload !== null) send(CH_ERROR, payload);
        log?.(`exec finished: ${outcome.kind === 'exit' ? `exit code ${outcome.code}` : outcome.message}`);
        conn.close();
      },
    },
  ).then(() => undefined);
}
