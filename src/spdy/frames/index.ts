/**
 * The table of control-frame body parsers, indexed by type. Types without an
 * entry (CREDENTIAL, NOOP, anything unknown) decode as `unknown` frames.
 */
import { FRAME_TYPE } from '../types.js';
import type { ControlBodyParser } from './context.js';
import { decodeGoaway } from './goaway.js';
import { decodeHeaders } from './headers.js';
import { decodePing } from './ping.js';
import { decodeRstStream } from './rst-stream.js';
import { decodeSettings } from './settings.js';
import { decodeSynReply } from './syn-reply.js';
import { decodeSynStream } from './syn-stream.js';
import { decodeWindowUpdate } from './window-update.js';

export const CONTROL_PARSERS: ReadonlyArray<ControlBodyParser | undefined> = (() => {
  const t: Array<ControlBodyParser | undefined> = new Array(16).fill(undefined);
  t[FRAME_TYPE.SYN_STREAM] = decodeSynStream;
  t[FRAME_TYPE.SYN_REPLY] = decodeSynReply;
  t[FRAME_TYPE.RST_STREAM] = decodeRstStream;
  t[FRAME_TYPE.SETTINGS] = decodeSettings;
  t[FRAME_TYPE.PING] = decodePing;
  t[FRAME_TYPE.GOAWAY] = decodeGoaway;
  t[FRAME_TYPE.HEADERS] = decodeHeaders;
  t[FRAME_TYPE.WINDOW_UPDATE] = decodeWindowUpdate;
  return t;
})();

export type { ControlBodyParser, FrameDecodeContext } from './context.js';
export { decodeData, encodeData, encodeDataHeader } from './data.js';
export { decodeGoaway, encodeGoaway } from './goaway.js';
export { decodeHeaders, encodeHeaders } from './headers.js';
export { decodePing, encodePing } from './ping.js';
export { decodeRstStream, encodeRstStream } from './rst-stream.js';
export { decodeSettings, encodeSettings } from './settings.js';
export { decodeSynReply, encodeSynReply } from './syn-reply.js';
export { decodeSynStream, encodeSynStream } from './syn-stream.js';
export { decodeUnknown, encodeUnknown } from './unknown.js';
export { decodeWindowUpdate, encodeWindowUpdate } from './window-update.js';
