/**
 * Frame decoder and message assembler in one: each pushed chunk yields the
 * frames it completes, each followed by the message it completes, so a
 * capture decoder sees both views in wire order.
 */
import type { MessageAssemblerOptions } from './assembler.js';
import { MessageAssembler } from './assembler.js';
import type { WebSocketDecoderOptions } from './decoder.js';
import { WebSocketFrameDecoder } from './decoder.js';
import type { WebSocketDiagnostic, WebSocketFrame, WebSocketMessage } from './types.js';

export type WebSocketStreamEvent = WebSocketFrame | WebSocketMessage | WebSocketDiagnostic;

export type WebSocketStreamOptions = WebSocketDecoderOptions & MessageAssemblerOptions;

export class WebSocketStreamDecoder {
  readonly frames: WebSocketFrameDecoder;
  readonly messages: MessageAssembler;

  constructor(opts: WebSocketStreamOptions = {}) {
    this.frames = new WebSocketFrameDecoder(opts);
    this.messages = new MessageAssembler(opts);
  }

  get offset(): number {
    return this.frames.offset;
  }

  push(chunk: Uint8Array): WebSocketStreamEvent[] {
    return this.interleave(this.frames.push(chunk));
  }

  gap(size: number): WebSocketStreamEvent[] {
    this.messages.abort();
    return this.interleave(this.frames.gap(size));
  }

  end(): WebSocketStreamEvent[] {
    return this.interleave(this.frames.end());
  }

  private interleave(events: ReturnType<WebSocketFrameDecoder['push']>): WebSocketStreamEvent[] {
    const out: WebSocketStreamEvent[] = [];
    for (const ev of events) {
      out.push(ev);
      if (ev.kind === 'diagnostic') continue;
      for (const m of this.messages.push(ev)) out.push(m);
    }
    return out;
  }
}
