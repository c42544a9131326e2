/**
 * Server side of a remote command session over WebSocket, built from our
 * codecs: records the client's channel events; when stdin ends (V5 close
 * signal) or a line arrives (protocols without one), writes stdout, stderr
 * and the status, then closes.
 */
import { ChannelDecoder, channelFrame, encodeExitCodeStatus, encodeSuccessStatus, remoteCommandProtocol, type ChannelEvent } from '../../../src/k8s/index.js';
import type { WsSession } from './ws-server.js';

export interface ExecRecord {
  events: ChannelEvent[];
  stdin: Buffer;
  stdinClosed: boolean;
  frameKinds: string[];
}

export function serveExec(s: WsSession, opts: { exitCode: number; stdoutPrefix?: string; stderr?: string }): ExecRecord {
  const q = s.url.searchParams;
  const flag = (n: string) => q.has(n) && q.get(n) !== 'false' && q.get(n) !== '0';
  const channels = [3];
  if (flag('stdin')) channels.push(0);
  if (flag('stdout')) channels.push(1);
  if (flag('stderr')) channels.push(2);
  if (flag('tty')) channels.push(4);
  const info = remoteCommandProtocol(s.protocol)!;
  const decoder = new ChannelDecoder({ protocol: s.protocol, direction: 'clientToServer', mode: 'inspect', channels });
  const record: ExecRecord = { events: [], stdin: Buffer.alloc(0), stdinClosed: false, frameKinds: [] };
  const send = (channel: number, data: Uint8Array) => s.send(s.enc.encode(channelFrame(channel, data, { base64: info.base64 })));
  // "Connected": an empty message on the lowest writable channel.
  send(channels.includes(1) ? 1 : channels.includes(2) ? 2 : 3, new Uint8Array(0));
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    send(1, Buffer.concat([Buffer.from(opts.stdoutPrefix ?? 'out:'), record.stdin]));
    if (channels.includes(2)) send(2, Buffer.from(opts.stderr ?? 'err\n'));
    if (info.statusFormat === 'json') send(3, opts.exitCode === 0 ? encodeSuccessStatus() : encodeExitCodeStatus(opts.exitCode));
    else if (opts.exitCode !== 0) send(3, Buffer.from(`command terminated with non-zero exit code: ${opts.exitCode}`));
    s.close();
  };
  s.onFrame = (f) => {
    record.frameKinds.push(f.kind);
    if (f.kind !== 'binary' && f.kind !== 'text') return;
    const ev = decoder.decode(f.payload, f.kind === 'text', f.offset);
    record.events.push(ev);
    if (ev.kind === 'data' && ev.role === 'stdin') {
      record.stdin = Buffer.concat([record.stdin, ev.data]);
      if (!info.closeSignal && record.stdin.includes(0x0a)) finish();
    }
    if (ev.kind === 'close' && ev.role === 'stdin') {
      record.stdinClosed = true;
      finish();
    }
  };
  if (!channels.includes(0)) setTimeout(finish, 50);
  return record;
}
