/**
 * Exec over WebSocket, on an in-memory connection: WebSocket has no flow
 * control, so a full stdin pauses the socket until the command reads, and the
 * V5 close signal that ends stdin must not leave it paused.
 */
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { memoryPair } from '../../src/spdy/session/index.js';
import { WsServerConnection } from '../../src/serve/ws-conn.js';
import { serveWebSocketExec } from '../../src/serve/ws-exec.js';
import type { ExecIO, ExecRequest } from '../../src/serve/exec.js';
import type { ExecOutcome } from '../../src/serve/status.js';
import { OPCODE, WebSocketFrameEncoder } from '../../src/websocket/index.js';

const REQ: ExecRequest = { kind: 'exec', namespace: 'default', pod: 'web', container: 'main', command: ['cat'], stdin: true, stdout: true, stderr: false, tty: false };

function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  r.on('data', (d: Buffer) => parts.push(d));
  return once(r, 'end').then(() => Buffer.concat(parts));
}

/**
 * A command that reads stdin only once the client's burst is all in (as a
 * busy `cat` may: the end is pushed but not yet consumed), then runs until
 * the client goes; `stdinDone` is what it read.
 */
function lateStdinReader(onStart?: (io: ExecIO) => void): { run: (req: ExecRequest, io: ExecIO) => Promise<ExecOutcome>; stdinDone: Promise<Buffer> } {
  let stdinRead!: (b: Buffer) => void;
  const stdinDone = new Promise<Buffer>((r) => (stdinRead = r));
  const run = async (_req: ExecRequest, io: ExecIO): Promise<ExecOutcome> => {
    onStart?.(io);
    await new Promise((r) => setTimeout(r, 20));
    stdinRead(await readAll(io.stdin!));
    await io.gone;
    return { kind: 'exit', code: 0 };
  };
  return { run, stdinDone };
}

describe('exec over WebSocket v5', () => {
  it('stdin that filled up and ended in the same read lets go of the socket: a ping after it is answered', async () => {
    const [client, socket] = memoryPair();
    const received: Buffer[] = [];
    client.on('data', (d: Buffer) => received.push(Buffer.from(d)));
    const conn = new WsServerConnection(socket, new Uint8Array(0));
    const { run, stdinDone } = lateStdinReader();
    const served = serveWebSocketExec(conn, 'v5.channel.k8s.io', REQ, {}, undefined, run);

    const enc = new WebSocketFrameEncoder({ role: 'client' });
    const stdin = Buffer.alloc(512 * 1024, 7);
    const frames: Buffer[] = [];
    for (let p = 0; p < stdin.length; p += 32768) {
      frames.push(Buffer.from(enc.frame(OPCODE.BINARY, [Uint8Array.of(0), stdin.subarray(p, p + 32768)])));
    }
    frames.push(Buffer.from(enc.frame(OPCODE.BINARY, Uint8Array.of(255, 0))));
    // More than stdin's buffer (256 KiB) and the close signal, in one read.
    client.write(Buffer.concat(frames));
    expect((await stdinDone).equals(stdin)).toBe(true);

    const ping = Buffer.from('still there?');
    client.write(Buffer.from(enc.frame(OPCODE.PING, ping)));
    const pong = Buffer.concat([Buffer.from([0x80 | OPCODE.PONG, ping.length]), ping]);
    for (let i = 0; i < 40 && !Buffer.concat(received).includes(pong); i++) await new Promise((r) => setTimeout(r, 25));
    expect(Buffer.concat(received).includes(pong), 'the ping after stdin ended was answered').toBe(true);

    client.write(Buffer.from(enc.frame(OPCODE.CLOSE, Uint8Array.of(0x03, 0xe8))));
    await served;
    client.destroy();
  });

  it('stdin sent after the close signal, in the same read, is dropped (the channel decoder flags it, nothing is pushed into the ended stdin): the command gets what came before, and serve goes on', async () => {
    const [client, socket] = memoryPair();
    const conn = new WsServerConnection(socket, new Uint8Array(0));
    const errors: unknown[] = [];
    const { run, stdinDone } = lateStdinReader((io) => io.stdin!.on('error', (e) => errors.push(e)));
    const served = serveWebSocketExec(conn, 'v5.channel.k8s.io', REQ, {}, undefined, run);
    const enc = new WebSocketFrameEncoder({ role: 'client' });
    client.write(
      Buffer.concat([
        Buffer.from(enc.frame(OPCODE.BINARY, Buffer.from('\x00before'))),
        Buffer.from(enc.frame(OPCODE.BINARY, Uint8Array.of(255, 0))),
        Buffer.from(enc.frame(OPCODE.BINARY, Buffer.from('\x00after'))),
      ]),
    );
    expect((await stdinDone).toString()).toBe('before');
    expect(errors).toEqual([]);
    client.write(Buffer.from(enc.frame(OPCODE.CLOSE, Uint8Array.of(0x03, 0xe8))));
    await served;
    client.destroy();
  });
});
