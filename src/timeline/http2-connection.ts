/**
 * An HTTP/2 connection (h2c with prior knowledge, h2c after an upgrade, or
 * decrypted h2: all start with the client's preface): its requests with
 * method, path and status, as `http-request` / `http-response` events and
 * summary `requests`, like HTTP/1.1. Frames per direction, HPACK per
 * direction; each stream's request is told when the client ends it (or at
 * the end), its response when the server does.
 */
import type { Direction } from '../common/errors.js';
import { KubewireError } from '../common/errors.js';
import { Http2FrameDecoder } from '../http2/decoder.js';
import { HpackDecoder, type HeaderField } from '../http2/hpack/decoder.js';
import { SETTING, type Http2DecodeEvent, type Http2Frame } from '../http2/frames.js';
import type { HeaderList, TimelineEvent } from './events.js';
import type { RequestSummary } from './summary-types.js';

/** Streams tracked at once; the oldest unanswered are dropped past it (memory bound). */
const MAX_OPEN_STREAMS = 4096;

export interface Http2Host {
  connection: number;
  client: string;
  server: string;
  /** Redact secrets as the rest of the timeline does. */
  headers(h: HeaderList): HeaderList;
  query(q: string): string;
  /** Keep a request summary (false: over the bound). */
  keepRequest(r: RequestSummary): boolean;
  /** A diagnostic was reported. */
  noteDiagnostic(): void;
}

interface StreamRecord {
  index: number;
  time: number;
  head: HeaderField[] | null;
  headOffset: number;
  requestBytes: number;
  requestDone: boolean;
  summary: RequestSummary | null;
  response: HeaderField[] | null;
  responseOffset: number;
  responseBytes: number;
}

export class Http2Connection {
  private readonly frames: Record<Direction, Http2FrameDecoder>;
  private readonly hpack: Record<Direction, HpackDecoder> = { clientToServer: new HpackDecoder(), serverToClient: new HpackDecoder() };
  private readonly streams = new Map<number, StreamRecord>();
  private nextIndex = 0;
  private time = 0;

  constructor(
    private readonly host: Http2Host,
    baseOffset: Record<Direction, number>,
    /** After an h2c upgrade: the request that carried it is stream 1, answered by the server. */
    upgradedRequest: RequestSummary | null = null,
  ) {
    const dec = (d: Direction) =>
      new Http2FrameDecoder({ mode: 'inspect', direction: d, connection: host.connection, baseOffset: baseOffset[d], expectPreface: d === 'clientToServer' });
    this.frames = { clientToServer: dec('clientToServer'), serverToClient: dec('serverToClient') };
    if (upgradedRequest) {
      this.streams.set(1, { index: this.nextIndex++, time: upgradedRequest.time, head: null, headOffset: 0, requestBytes: 0, requestDone: true, summary: upgradedRequest, response: null, responseOffset: 0, responseBytes: 0 });
    }
  }

  bytes(d: Direction, chunk: Uint8Array, time: number, out: TimelineEvent[]): void {
    this.time = time;
    this.onEvents(d, this.frames[d].push(chunk), out);
  }

  gap(d: Direction, size: number, time: number, out: TimelineEvent[]): void {
    this.time = time;
    this.onEvents(d, this.frames[d].gap(size), out);
  }

  end(time: number, out: TimelineEvent[]): void {
    this.time = time;
    for (const d of ['clientToServer', 'serverToClient'] as const) this.onEvents(d, this.frames[d].end(), out);
    // what never ended is told as far as it went
    for (const [id, s] of this.streams) {
      if (!s.requestDone) this.requestEnded(id, s, out);
      if (s.response) this.responseEnded(id, s, out);
    }
    this.streams.clear();
  }

  private onEvents(d: Direction, events: Http2DecodeEvent[], out: TimelineEvent[]): void {
    for (const ev of events) {
      if (ev.kind === 'diagnostic') this.report(d, ev.error, out);
      else if (ev.kind !== 'preface') this.onFrame(d, ev, out);
    }
  }

  private onFrame(d: Direction, f: Http2Frame, out: TimelineEvent[]): void {
    switch (f.kind) {
      case 'headers': {
        let fields: HeaderField[];
        try {
          if (this.hpack[d].failed) return;
          fields = this.hpack[d].decode(f.headerBlock, f.offset);
        } catch (e) {
          this.report(d, e as KubewireError, out);
          return;
        }
        if (d === 'clientToServer') this.requestHead(f.streamId, fields, f.offset, f.endStream, out);
        else this.responseHead(f.streamId, fields, f.offset, f.endStream, out);
        return;
      }
      case 'push_promise':
        // the block must still go through HPACK to keep the table in step
        try {
          if (!this.hpack[d].failed) this.hpack[d].decode(f.headerBlock, f.offset);
        } catch (e) {
          this.report(d, e as KubewireError, out);
        }
        return;
      case 'data': {
        const s = this.streams.get(f.streamId);
        if (!s) return;
        if (d === 'clientToServer') {
          s.requestBytes += f.data.length;
          if (f.endStream && !s.requestDone) this.requestEnded(f.streamId, s, out);
        } else {
          s.responseBytes += f.data.length;
          if (f.endStream && s.response) this.responseEnded(f.streamId, s, out);
        }
        return;
      }
      case 'rst_stream': {
        const s = this.streams.get(f.streamId);
        if (!s) return;
        if (!s.requestDone) this.requestEnded(f.streamId, s, out);
        if (s.response) this.responseEnded(f.streamId, s, out);
        this.streams.delete(f.streamId);
        return;
      }
      case 'settings':
        // the other side's HPACK encoder may use a table this large from now on
        for (const e of f.entries) if (e.id === SETTING.HEADER_TABLE_SIZE) this.hpack[d === 'clientToServer' ? 'serverToClient' : 'clientToServer'].allowTableSize(e.value);
        return;
      case 'priority':
      case 'ping':
      case 'goaway':
      case 'window_update':
      case 'unknown':
        return;
      default: {
        const never: never = f;
        throw new Error(`unhandled HTTP/2 frame ${(never as { kind: string }).kind}`);
      }
    }
  }

  private requestHead(id: number, fields: HeaderField[], offset: number, endStream: boolean, out: TimelineEvent[]): void {
    const known = this.streams.get(id);
    if (known && known.head) {
      // trailers: the request ends here
      if (endStream && !known.requestDone) this.requestEnded(id, known, out);
      return;
    }
    const pseudo = pseudoHeaders(fields);
    const { path, query } = splitTarget(pseudo[':path'] ?? '');
    const s: StreamRecord = { index: this.nextIndex++, time: this.time, head: fields, headOffset: offset, requestBytes: 0, requestDone: false, summary: null, response: null, responseOffset: 0, responseBytes: 0 };
    const summary: RequestSummary = {
      connection: this.host.connection,
      client: this.host.client,
      server: this.host.server,
      method: pseudo[':method'] ?? '',
      path,
      query: this.host.query(query),
      status: null,
      upgrade: null,
      retriedBy: null,
      time: this.time,
    };
    if (this.host.keepRequest(summary)) s.summary = summary;
    if (this.streams.size >= MAX_OPEN_STREAMS) {
      const oldest = this.streams.keys().next().value as number;
      this.streams.delete(oldest);
    }
    this.streams.set(id, s);
    if (endStream) this.requestEnded(id, s, out);
  }

  private requestEnded(id: number, s: StreamRecord, out: TimelineEvent[]): void {
    s.requestDone = true;
    if (!s.head) return;
    const pseudo = pseudoHeaders(s.head);
    const target = pseudo[':path'] ?? '';
    const { path, query } = splitTarget(target);
    const q = this.host.query(query);
    out.push({
      kind: 'http-request',
      time: this.time,
      connection: this.host.connection,
      direction: 'clientToServer',
      index: s.index,
      method: pseudo[':method'] ?? '',
      target: q === query ? target : `${path}?${q}`,
      path,
      query: q,
      version: 'HTTP/2',
      headers: this.host.headers(s.head),
      upgrade: null,
      offeredProtocols: [],
      bodyLength: s.requestBytes,
      offset: s.headOffset,
      streamId: id,
    });
    this.forgetIfDone(id, s);
  }

  private responseHead(id: number, fields: HeaderField[], offset: number, endStream: boolean, out: TimelineEvent[]): void {
    const s = this.streams.get(id);
    if (!s) return;
    if (s.response) {
      // trailers
      if (endStream) this.responseEnded(id, s, out);
      return;
    }
    const status = Number(pseudoHeaders(fields)[':status']);
    // 1xx are interim: the final response follows
    if (status >= 100 && status < 200) return;
    s.response = fields;
    s.responseOffset = offset;
    if (s.summary) s.summary.status = Number.isInteger(status) ? status : null;
    if (endStream) this.responseEnded(id, s, out);
  }

  private responseEnded(id: number, s: StreamRecord, out: TimelineEvent[]): void {
    const fields = s.response!;
    s.response = null;
    const status = Number(pseudoHeaders(fields)[':status']);
    out.push({
      kind: 'http-response',
      time: this.time,
      connection: this.host.connection,
      direction: 'serverToClient',
      index: s.index,
      status: Number.isInteger(status) ? status : 0,
      reason: '',
      version: 'HTTP/2',
      headers: this.host.headers(fields),
      chosenProtocol: null,
      bodyLength: s.responseBytes,
      body: null,
      offset: s.responseOffset,
      streamId: id,
    });
    s.responseBytes = -1;
    this.forgetIfDone(id, s);
  }

  private forgetIfDone(id: number, s: StreamRecord): void {
    if (s.requestDone && s.responseBytes === -1) this.streams.delete(id);
  }

  private report(d: Direction, error: KubewireError, out: TimelineEvent[]): void {
    this.host.noteDiagnostic();
    out.push({ kind: 'diagnostic', time: this.time, connection: this.host.connection, session: null, direction: d, streamId: error.streamId ?? null, error });
  }
}

function pseudoHeaders(fields: HeaderField[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [n, v] of fields) if (n.startsWith(':') && !(n in out)) out[n] = v;
  return out;
}

function splitTarget(t: string): { path: string; query: string } {
  const q = t.indexOf('?');
  return q < 0 ? { path: t, query: '' } : { path: t.slice(0, q), query: t.slice(q + 1) };
}
