/**
 * Native WebSocket port-forward (kubelet/CRI; protocols '', v4.channel.k8s.io,
 * v4.base64.channel.k8s.io). For the i-th requested port (query order),
 * channel 2i carries data both ways and channel 2i+1 errors from the
 * server. The server's first message on every channel is the port as a
 * 2-byte little-endian number; clients strip it. Clients never prefix.
 */
import { KubewireError } from '../common/errors.js';
import type { Direction, ErrorMode } from '../common/errors.js';
import { decodeBase64Strict } from './base64.js';
import { REMOTE_COMMAND_BASE64_V4 } from './protocols.js';

export type PortForwardRole = 'data' | 'error';

interface ChannelFields {
  channel: number;
  /** Index of the port in the request (channel >> 1). */
  pair: number;
  role: PortForwardRole;
  offset: number;
}

export type PortForwardChannelEvent =
  | ({ kind: 'port'; port: number } & ChannelFields)
  | ({ kind: 'data'; data: Uint8Array } & ChannelFields)
  | { kind: 'empty'; offset: number }
  | { kind: 'diagnostic'; error: KubewireError };

export interface PortForwardChannelDecoderOptions {
  protocol: string;
  direction: Direction;
  /** The ports requested (`ports=` query), when known: checks channel ranges and prefixes. */
  ports?: readonly number[];
  mode?: ErrorMode;
  connection?: number;
}

/** Channels of the i-th port. */
export function portForwardChannels(index: number): { data: number; error: number } {
  return { data: 2 * index, error: 2 * index + 1 };
}

/** The 2-byte little-endian port prefix. */
export function encodePortPrefix(port: number): Uint8Array {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`port ${port} out of range`);
  return new Uint8Array([port & 0xff, port >>> 8]);
}

export class PortForwardChannelDecoder {
  private readonly strict: boolean;
  private readonly base64: boolean;
  /** Channels whose port prefix was seen (server to client only). */
  private readonly prefixed = new Set<number>();

  constructor(private readonly opts: PortForwardChannelDecoderOptions) {
    this.strict = (opts.mode ?? 'strict') === 'strict';
    this.base64 = opts.protocol === REMOTE_COMMAND_BASE64_V4;
  }

  decode(payload: Uint8Array, offset = 0): PortForwardChannelEvent[] {
    if (payload.length === 0) return [{ kind: 'empty', offset }];
    let channel = payload[0]!;
    let data = payload.subarray(1);
    if (this.base64) {
      channel -= 0x30;
      const decoded = decodeBase64Strict(data);
      if (decoded === null) return this.report('K8S_BASE64_INVALID', 'message', 'payload is not valid base64', offset, channel);
      data = decoded;
    }
    const ports = this.opts.ports;
    if (channel < 0 || (ports !== undefined && channel >= 2 * ports.length)) {
      return this.report('K8S_CHANNEL_OUT_OF_RANGE', 'message', `channel ${channel} beyond the ${ports?.length ?? 0} requested ports`, offset, channel);
    }
    const fields: ChannelFields = { channel, pair: channel >> 1, role: (channel & 1) === 0 ? 'data' : 'error', offset };
    if (this.opts.direction === 'clientToServer') {
      if (fields.role === 'error') {
        return this.report('K8S_CHANNEL_UNEXPECTED', 'channel', `client wrote on error channel ${channel}`, offset, channel);
      }
      return [{ kind: 'data', data, ...fields }];
    }
    const out: PortForwardChannelEvent[] = [];
    if (!this.prefixed.has(channel)) {
      this.prefixed.add(channel);
      if (data.length < 2) {
        return this.report('K8S_PORT_PREFIX_SHORT', 'channel', `first message of channel ${channel} has ${data.length} of the 2 port bytes`, offset, channel);
      }
      const port = data[0]! | (data[1]! << 8);
      out.push({ kind: 'port', port, ...fields });
      if (ports !== undefined && ports[fields.pair] !== port) {
        out.push(...this.report('K8S_PORT_MISMATCH', 'channel', `channel ${channel} announces port ${port}, requested ${ports[fields.pair]}`, offset, channel));
      }
      data = data.subarray(2);
      if (data.length === 0) return out;
    }
    out.push({ kind: 'data', data, ...fields });
    return out;
  }

  private report(code: string, scope: 'message' | 'channel', message: string, offset: number, channel: number): PortForwardChannelEvent[] {
    const error = new KubewireError('k8s', code, scope, message, {
      offset,
      channel,
      direction: this.opts.direction,
      connection: this.opts.connection,
    });
    if (this.strict) throw error;
    return [{ kind: 'diagnostic', error }];
  }
}
