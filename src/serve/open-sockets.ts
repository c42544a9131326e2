/**
 * The sockets a listener has open. `server.close` only stops accepting and
 * waits for open connections to end, and an upgraded socket is no longer
 * the server's to end: closing destroys them all, which ends every session.
 */
import type { Server } from 'node:net';
import type { Duplex } from 'node:stream';

export class OpenSockets {
  private readonly sockets = new Set<Duplex>();

  /** Hold `socket` until it closes (a listener for `connection`, `secureConnection` or an upgrade). */
  readonly track = (socket: Duplex): void => {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  };

  /** Stop `server` listening and destroy every socket still open; resolves once the server has closed. */
  close(server: Server): Promise<void> {
    return new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }
}
