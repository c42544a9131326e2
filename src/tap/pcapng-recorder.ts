/**
 * `kubewire tap --write FILE.pcapng`: the tapped connections as a capture.
 * Each connection gets synthetic Ethernet/IP/TCP framing (handshake, data
 * segments, FIN or RST) around the real bytes at their real times, so
 * `kubewire decode` and Wireshark rebuild the same sessions.
 *
 * The recorder sits on the forwarding path (it must see every byte, unlike
 * the decoder, which may fall behind), so it only frames and hands blocks to
 * the output stream. If the output cannot keep up by more than
 * `maxPendingBytes`, a connection's recording is ended with a RST and a
 * report, rather than buffering without bound or silently leaving bytes out.
 */
import type { Writable } from 'node:stream';
import { isIP } from 'node:net';
import { PcapngWriter, SyntheticTcpConnection } from '../capture/pcapng-writer.js';
import { KubewireError } from '../common/errors.js';
import type { ConnectionEvent, Endpoint } from '../tcp/types.js';

export interface PcapngRecorderOptions {
  /** Bytes the output stream may hold unwritten before recordings are cut. Default 64 MiB. */
  maxPendingBytes?: number;
  onReport?: (error: KubewireError) => void;
}

export interface PcapngRecorderStats {
  connections: number;
  /** Connections whose recording was cut because the output fell behind. */
  truncated: number;
  bytesWritten: number;
}

const DEFAULT_MAX_PENDING = 64 * 1024 * 1024;

export class PcapngRecorder {
  private readonly writer = new PcapngWriter({ application: 'kubewire tap', interfaceName: 'kubewire-tap' });
  private readonly live = new Map<number, SyntheticTcpConnection>();
  private readonly maxPending: number;
  private readonly stats_: PcapngRecorderStats = { connections: 0, truncated: 0, bytesWritten: 0 };
  private ended = false;

  constructor(
    private readonly out: Writable,
    private readonly opts: PcapngRecorderOptions = {},
  ) {
    this.maxPending = opts.maxPendingBytes ?? DEFAULT_MAX_PENDING;
    this.write([this.writer.header()]);
  }

  /** Feed every event the tap emits, in order. Never throws on event content. */
  readonly record = (ev: ConnectionEvent): void => {
    if (this.ended) return;
    switch (ev.kind) {
      case 'open': {
        const [client, server] = sameFamily(ev.client, ev.server);
        const c = new SyntheticTcpConnection(this.writer, { client, server });
        this.live.set(ev.connection, c);
        this.stats_.connections++;
        this.write(c.open(ev.time));
        return;
      }
      case 'data': {
        const c = this.live.get(ev.connection);
        if (!c) return;
        if (this.out.writableLength > this.maxPending) {
          this.write(c.reset(ev.time, ev.direction));
          this.live.delete(ev.connection);
          this.stats_.truncated++;
          this.opts.onReport?.(
            new KubewireError(
              'tap',
              'TAP_WRITE_BEHIND',
              'connection',
              'the recording could not keep up; this connection is recorded up to here and ended with a RST',
              { connection: ev.connection, direction: ev.direction, offset: ev.offset },
            ),
          );
          return;
        }
        this.write(c.data(ev.direction, ev.bytes, ev.time));
        return;
      }
      case 'close': {
        const c = this.live.get(ev.connection);
        if (!c) return;
        this.live.delete(ev.connection);
        if (ev.reason === 'rst') this.write(c.reset(ev.time, ev.direction));
        else if (ev.reason === 'fin') this.write(c.close(ev.time, ev.direction));
        // Cut at shutdown: leave it open, as a capture that stopped would.
        return;
      }
      case 'gap':
      case 'diagnostic':
        // The tap feeds the recorder before its decode queue, so it never sees gaps.
        return;
      default: {
        const never: never = ev;
        throw new Error(`unknown event ${String(never)}`);
      }
    }
  };

  stats(): PcapngRecorderStats {
    return { ...this.stats_ };
  }

  /** Stop recording and flush; resolves when the output has everything. */
  close(): Promise<void> {
    this.ended = true;
    this.live.clear();
    return new Promise((resolve, reject) => {
      this.out.once('error', reject);
      this.out.end(() => resolve());
    });
  }

  private write(blocks: Uint8Array[]): void {
    if (blocks.length === 0) return;
    let n = 0;
    for (const b of blocks) n += b.length;
    const buf = blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks, n);
    this.stats_.bytesWritten += n;
    this.out.write(buf);
  }
}

/**
 * One synthetic connection has one IP version. A tap listening on IPv6 in
 * front of an IPv4 upstream (or the reverse) records the IPv4 side as an
 * IPv4-mapped IPv6 address.
 */
function sameFamily(client: Endpoint, server: Endpoint): [Endpoint, Endpoint] {
  const c6 = isIP(client.address) === 6;
  const s6 = isIP(server.address) === 6;
  if (c6 === s6) return [client, server];
  return c6 ? [client, mapped(server)] : [mapped(client), server];
}

function mapped(e: Endpoint): Endpoint {
  const b = e.address.split('.').map(Number);
  const hi = ((b[0]! << 8) | b[1]!).toString(16);
  const lo = ((b[2]! << 8) | b[3]!).toString(16);
  return { address: `::ffff:${hi}:${lo}`, port: e.port };
}
