/**
 * After an upgrade a proxying hop copies bytes both ways, unchanged, as the
 * apiserver's and the kubelet's upgrade-aware proxies do. A half-close
 * travels on (one side's FIN becomes a FIN toward the other), and the pair
 * is torn down when both directions ended or either side fails.
 */
import type { Duplex } from 'node:stream';

export type PipeDirection = 'clientToServer' | 'serverToClient';

export interface PipeOptions {
  /** Sees every chunk as it passes (the hop's record). */
  observe?: (direction: PipeDirection, chunk: Buffer) => void;
  /** Called once, when both sides are gone. */
  done?: () => void;
}

export function pipeBothWays(client: Duplex, server: Duplex, opts: PipeOptions = {}): void {
  let ended = 0;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    client.destroy();
    server.destroy();
    opts.done?.();
  };
  const copy = (from: Duplex, to: Duplex, direction: PipeDirection) => {
    from.on('data', (chunk: Buffer) => {
      opts.observe?.(direction, chunk);
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    from.on('end', () => {
      to.end();
      if (++ended === 2) finish();
    });
    from.on('error', finish);
    from.on('close', () => {
      // A side that closed without a FIN (reset) takes the pair down; one
      // that ended cleanly waits for the other direction.
      if (!from.readableEnded) finish();
      else if (ended === 2) finish();
    });
    from.resume();
  };
  copy(client, server, 'clientToServer');
  copy(server, client, 'serverToClient');
}
