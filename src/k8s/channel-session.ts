/**
 * Both directions of a remote command session over WebSocket, interpreted:
 * channel data by role, V5 close signals, resize events from channel 4, and
 * the status from the error channel (one message per status, as the
 * Kubernetes servers write it). For a capture decoder (feed both directions)
 * or a server (feed the client's direction).
 */
import type { Direction, ErrorMode } from '../common/errors.js';
import type { KubewireError } from '../common/errors.js';
import { ChannelDecoder, type RemoteCommandRole } from './channel.js';
import { remoteCommandProtocol } from './protocols.js';
import { ResizeDecoder } from './resize.js';
import { parseStatus, type RemoteCommandStatus } from './status.js';

interface Fields {
  channel: number;
  role: RemoteCommandRole;
  direction: Direction;
  offset: number;
}

export type ChannelSessionEvent =
  | ({ kind: 'channel-data'; data: Uint8Array } & Fields)
  | ({ kind: 'channel-close' } & Fields)
  | ({ kind: 'status'; status: RemoteCommandStatus } & Fields)
  | ({ kind: 'resize'; width: number; height: number } & Fields)
  | { kind: 'empty'; direction: Direction; offset: number }
  | { kind: 'diagnostic'; error: KubewireError };

export interface ChannelSessionOptions {
  protocol: string;
  /** Channels opened by the request (see `ChannelDecoder`); default all. */
  channels?: readonly number[];
  mode?: ErrorMode;
  connection?: number;
}

export class ChannelSessionInterpreter {
  private readonly decoders: Record<Direction, ChannelDecoder>;
  private readonly resize: ResizeDecoder;
  private readonly statusFormat: 'json' | 'text';
  private readonly strict: boolean;

  constructor(private readonly opts: ChannelSessionOptions) {
    const p = remoteCommandProtocol(opts.protocol);
    if (p === null) throw new RangeError(`${JSON.stringify(opts.protocol)} is not a remote command protocol`);
    this.statusFormat = p.statusFormat;
    this.strict = (opts.mode ?? 'strict') === 'strict';
    const common = { protocol: opts.protocol, channels: opts.channels, mode: opts.mode, connection: opts.connection };
    this.decoders = {
      clientToServer: new ChannelDecoder({ ...common, direction: 'clientToServer' }),
      serverToClient: new ChannelDecoder({ ...common, direction: 'serverToClient' }),
    };
    this.resize = new ResizeDecoder({ mode: opts.mode, direction: 'clientToServer', channel: 4 });
  }

  /** One message (or client frame) of `direction`. */
  push(payload: Uint8Array, text: boolean, direction: Direction, offset = 0): ChannelSessionEvent[] {
    const ev = this.decoders[direction].decode(payload, text, offset);
    switch (ev.kind) {
      case 'diagnostic':
        return [ev];
      case 'empty':
        return [{ kind: 'empty', direction, offset }];
      case 'close':
        return [{ kind: 'channel-close', channel: ev.channel, role: ev.role, direction, offset }];
      case 'data': {
        const fields: Fields = { channel: ev.channel, role: ev.role, direction, offset };
        const out: ChannelSessionEvent[] = [{ kind: 'channel-data', data: ev.data, ...fields }];
        if (ev.role === 'resize') {
          for (const r of this.resize.push(ev.data, offset)) {
            out.push(r.kind === 'resize' ? { kind: 'resize', width: r.width, height: r.height, ...fields } : r);
          }
        } else if (ev.role === 'error' && ev.data.length > 0) {
          const parsed = parseStatus(ev.data, this.statusFormat, { offset, direction, channel: 3, connection: this.opts.connection });
          for (const error of parsed.diagnostics) {
            if (this.strict) throw error;
            out.push({ kind: 'diagnostic', error });
          }
          out.push({ kind: 'status', status: parsed.status, ...fields });
        }
        return out;
      }
      default: {
        const never: never = ev;
        throw new Error(`unknown channel event ${JSON.stringify(never)}`);
      }
    }
  }
}
