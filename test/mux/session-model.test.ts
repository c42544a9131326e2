/**
 * Model-based sweep of the sans-IO session: two cores (client and server)
 * joined by byte queues, driven by random sequences of open, write, half-close,
 * reset, read (window credit), ping, GOAWAY and partial deliveries cut at
 * random points. Checked against a reference model of what each side sent:
 * every stream's bytes arrive in order and intact (a prefix when reset), no
 * data after FIN or after close, windows never negative, no session error
 * between two correct peers, and after a final drain every stream has ended.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SpdySessionCore, type SessionEvent } from '../../src/spdy/session/index.js';

type Side = 0 | 1; // 0 client, 1 server

interface Half {
  /** Bytes accepted by sendData on this side. */
  sent: number;
  fin: boolean;
  /** Bytes the other side received. */
  received: number;
  ended: boolean;
}

interface ModelStream {
  id: number;
  half: [Half, Half]; // half[s]: data sent by side s
  reset: boolean;
  closed: [boolean, boolean];
  known: [boolean, boolean];
  replied: boolean;
  unconsumed: [number, number];
}

type Action =
  | { t: 'open'; side: Side; fin: boolean }
  | { t: 'write'; side: Side; k: number; n: number }
  | { t: 'end'; side: Side; k: number }
  | { t: 'reset'; side: Side; k: number }
  | { t: 'reply'; k: number }
  | { t: 'consume'; side: Side; k: number }
  | { t: 'deliver'; side: Side; bytes: number; cut: number }
  | { t: 'ping'; side: Side }
  | { t: 'goaway'; side: Side };

const side = fc.constantFrom<Side>(0, 1);
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ t: fc.constant('open' as const), side, fin: fc.boolean() }) },
  {
    weight: 5,
    arbitrary: fc.record({ t: fc.constant('write' as const), side, k: fc.nat(20), n: fc.integer({ min: 0, max: 40_000 }) }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('end' as const), side, k: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('reset' as const), side, k: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('reply' as const), k: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('consume' as const), side, k: fc.nat(20) }) },
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant('deliver' as const),
      side,
      bytes: fc.integer({ min: 1, max: 100_000 }),
      cut: fc.integer({ min: 1, max: 70_000 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('ping' as const), side }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('goaway' as const), side }) },
);

function pattern(id: number, s: Side, i: number): number {
  return (id * 31 + s * 7 + i * 13 + (i >>> 8)) & 0xff;
}

function payload(id: number, s: Side, from: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = pattern(id, s, from + i);
  return b;
}

class World {
  readonly cores: [SpdySessionCore, SpdySessionCore];
  readonly wires: [Uint8Array[], Uint8Array[]] = [[], []]; // wires[s]: bytes sent by side s, not yet delivered
  readonly streams = new Map<number, ModelStream>();
  readonly order: number[] = [];
  readonly failures: string[] = [];

  constructor(window: number) {
    const opts = { initialWindow: window, sessionWindow: window + 30_000, enforceReceiveWindow: true, maxDataFrame: 16384 };
    this.cores = [new SpdySessionCore({ role: 'client', ...opts }), new SpdySessionCore({ role: 'server', ...opts })];
    this.collect(0);
    this.collect(1);
  }

  private collect(s: Side): void {
    for (const b of this.cores[s].takeOutput()) if (b.length) this.wires[s].push(b.slice());
    this.apply(s, this.cores[s].takeEvents());
  }

  private stream(k: number): ModelStream | undefined {
    if (this.order.length === 0) return undefined;
    return this.streams.get(this.order[k % this.order.length]!);
  }

  private newStream(id: number): ModelStream {
    const h = (): Half => ({ sent: 0, fin: false, received: 0, ended: false });
    const m: ModelStream = {
      id,
      half: [h(), h()],
      reset: false,
      closed: [false, false],
      known: [false, false],
      replied: false,
      unconsumed: [0, 0],
    };
    this.streams.set(id, m);
    this.order.push(id);
    return m;
  }

  /** Events seen by side `s`. */
  private apply(s: Side, events: SessionEvent[]): void {
    const other: Side = s === 0 ? 1 : 0;
    for (const ev of events) {
      switch (ev.kind) {
        case 'stream': {
          const m = this.streams.get(ev.streamId);
          if (!m) this.failures.push(`unknown stream ${ev.streamId} announced`);
          else {
            m.known[s] = true;
            if (ev.fin) m.half[other].ended = true;
          }
          break;
        }
        case 'data': {
          const m = this.streams.get(ev.streamId)!;
          const half = m.half[other];
          if (half.ended) this.failures.push(`data after FIN on ${ev.streamId}`);
          if (m.closed[s]) this.failures.push(`data after close on ${ev.streamId}`);
          for (let i = 0; i < ev.data.length; i++) {
            if (ev.data[i] !== pattern(ev.streamId, other, half.received + i)) {
              this.failures.push(`byte ${half.received + i} of ${ev.streamId} wrong`);
              break;
            }
          }
          half.received += ev.data.length;
          if (half.received > half.sent) this.failures.push(`more bytes than sent on ${ev.streamId}`);
          m.unconsumed[s] += ev.data.length;
          break;
        }
        case 'end': {
          const m = this.streams.get(ev.streamId)!;
          if (m.closed[s]) this.failures.push(`end after close on ${ev.streamId}`);
          m.half[other].ended = true;
          if (!m.reset && m.half[other].received !== m.half[other].sent) {
            this.failures.push(`FIN on ${ev.streamId} before all bytes (${m.half[other].received}/${m.half[other].sent})`);
          }
          break;
        }
        case 'reset':
          this.streams.get(ev.streamId)!.reset = true;
          break;
        case 'closed':
          this.streams.get(ev.streamId)!.closed[s] = true;
          break;
        case 'reply':
          break;
        case 'error':
          this.failures.push(`session error on side ${s}: ${ev.error.code} ${ev.error.message}`);
          break;
        case 'window':
        case 'ping':
        case 'pong':
        case 'settings':
        case 'goaway':
        case 'headers':
          break;
        default: {
          const never: never = ev;
          return never;
        }
      }
    }
  }

  run(a: Action): void {
    const run = () => {
      switch (a.t) {
        case 'open': {
          const c = this.cores[a.side];
          if (c.goawaySent || c.goawayReceived) return;
          const id = c.open([['side', String(a.side)]], { fin: a.fin });
          const m = this.newStream(id);
          m.known[a.side] = true;
          m.half[a.side].fin = a.fin;
          return;
        }
        case 'write': {
          const m = this.stream(a.k);
          const c = this.cores[a.side];
          if (!m || !m.known[a.side] || !c.canSend(m.id)) return;
          if (m.id % 2 !== (a.side === 0 ? 1 : 0)) m.replied = true;
          const h = m.half[a.side];
          const took = c.sendData(m.id, payload(m.id, a.side, h.sent, a.n));
          if (took < 0 || took > a.n) this.failures.push(`sendData took ${took} of ${a.n}`);
          h.sent += took;
          return;
        }
        case 'end': {
          const m = this.stream(a.k);
          const c = this.cores[a.side];
          if (!m || !m.known[a.side] || !c.canSend(m.id)) return;
          if (m.id % 2 !== (a.side === 0 ? 1 : 0)) m.replied = true;
          c.end(m.id);
          m.half[a.side].fin = true;
          return;
        }
        case 'reset': {
          const m = this.stream(a.k);
          if (!m || !this.cores[a.side].hasStream(m.id)) return;
          this.cores[a.side].reset(m.id);
          m.reset = true;
          return;
        }
        case 'reply': {
          const m = this.stream(a.k);
          const owner: Side = m && m.id % 2 === 1 ? 1 : 0; // the side that did not open it
          if (!m || m.replied || !m.known[owner] || !this.cores[owner].hasStream(m.id)) return;
          m.replied = true;
          this.cores[owner].reply(m.id, [['ok', '1']]);
          return;
        }
        case 'consume': {
          const m = this.stream(a.k);
          if (!m || m.unconsumed[a.side] === 0) return;
          this.cores[a.side].consumed(m.id, m.unconsumed[a.side]);
          m.unconsumed[a.side] = 0;
          return;
        }
        case 'deliver':
          this.deliver(a.side, a.bytes, a.cut);
          return;
        case 'ping':
          this.cores[a.side].ping();
          return;
        case 'goaway':
          this.cores[a.side].goaway();
          return;
      }
    };
    run();
    this.collect(0);
    this.collect(1);
    this.checkWindows();
  }

  /** Move up to `bytes` from side `from`'s wire to the other side, in pieces of at most `cut`. */
  deliver(from: Side, bytes: number, cut: number): void {
    const to: Side = from === 0 ? 1 : 0;
    const wire = this.wires[from];
    while (bytes > 0 && wire.length) {
      const head = wire[0]!;
      const n = Math.min(head.length, bytes, cut);
      const piece = head.subarray(0, n);
      if (n === head.length) wire.shift();
      else wire[0] = head.subarray(n);
      bytes -= n;
      this.apply(to, this.cores[to].receive(piece));
      this.collect(to);
    }
  }

  checkWindows(): void {
    for (const s of [0, 1] as const) {
      const c = this.cores[s];
      if (c.sessionSendWindow < 0) this.failures.push(`session send window ${c.sessionSendWindow} on side ${s}`);
      if (c.sessionReceiveWindow < 0) this.failures.push(`session receive window ${c.sessionReceiveWindow} on side ${s}`);
      for (const id of c.streamIds()) {
        const w = c.receiveWindow(id)!;
        if (w < 0) this.failures.push(`receive window ${w} on stream ${id} side ${s}`);
      }
    }
  }

  /** Read everything, half-close everything, deliver until quiet. */
  drain(): void {
    for (let round = 0; round < 50; round++) {
      for (const m of this.streams.values()) {
        for (const s of [0, 1] as const) {
          if (m.unconsumed[s] > 0) {
            this.cores[s].consumed(m.id, m.unconsumed[s]);
            m.unconsumed[s] = 0;
          }
          if (m.known[s] && this.cores[s].canSend(m.id)) {
            this.cores[s].end(m.id);
            m.half[s].fin = true;
          }
        }
      }
      this.collect(0);
      this.collect(1);
      this.deliver(0, Infinity, 65536);
      this.deliver(1, Infinity, 65536);
      if (!this.wires[0].length && !this.wires[1].length && this.cores[0].streamCount + this.cores[1].streamCount === 0) break;
    }
  }
}

describe('session model', () => {
  it('random command sequences keep every invariant', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 60 }), fc.constantFrom(65536, 100_000, 1 << 20), (actions, window) => {
        const w = new World(window);
        for (const a of actions) w.run(a);
        w.drain();
        w.checkWindows();
        expect(w.failures).toEqual([]);
        expect(w.cores[0].streamCount).toBe(0);
        expect(w.cores[1].streamCount).toBe(0);
        for (const m of w.streams.values()) {
          for (const s of [0, 1] as const) {
            const h = m.half[s];
            if (!m.reset) {
              // Not reset: every accepted byte arrived, and the FIN with it.
              expect(h.received).toBe(h.sent);
              if (m.known[s === 0 ? 1 : 0]) expect(h.ended).toBe(h.fin);
            } else {
              expect(h.received).toBeLessThanOrEqual(h.sent);
            }
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('session core on hostile input', () => {
  it('random bytes and mutated frames never throw; a failure is one typed error event', () => {
    const enc = () => {
      const c = new SpdySessionCore({ role: 'client' });
      const id = c.open([['streamtype', 'stdin']]);
      c.sendData(id, new Uint8Array([1, 2, 3]), true);
      c.ping();
      c.goaway();
      return Buffer.concat(c.takeOutput());
    };
    const valid = enc();
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 400 }),
      fc
        .array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 })
        .map((flips) => {
          const b = Uint8Array.from(valid);
          for (const [i, v] of flips) b[i] = v;
          return b;
        }),
    );
    fc.assert(
      fc.property(input, fc.array(fc.nat(400), { maxLength: 8 }), fc.constantFrom<'client' | 'server'>('client', 'server'), (bytes, cuts, role) => {
        const core = new SpdySessionCore({ role, enforceReceiveWindow: true });
        const points = [...cuts].map((c) => Math.min(c, bytes.length)).sort((a, b) => a - b);
        let prev = 0;
        const events: SessionEvent[] = [];
        for (const p of [...points, bytes.length]) {
          events.push(...core.receive(bytes.subarray(prev, p)));
          prev = p;
        }
        const errors = events.filter((e) => e.kind === 'error');
        expect(errors.length).toBeLessThanOrEqual(1);
        if (errors.length) {
          expect(core.failed).toBe(true);
          const e = errors[0]!;
          expect(e.kind === 'error' && e.error.layer).toBe('mux');
          expect(e.kind === 'error' && /^MUX_/.test(e.error.code)).toBe(true);
          expect(events[events.length - 1]!.kind).toBe('error');
        }
        // A session error puts GOAWAY(PROTOCOL_ERROR) last on the wire.
        const out = Buffer.concat(core.takeOutput());
        if (errors.length) {
          const goaway = out.subarray(out.length - 16);
          expect(goaway.subarray(0, 8).toString('hex')).toBe('8003000700000008');
          expect(goaway.readUInt32BE(12)).toBe(1);
        }
      }),
      { numRuns: 400 },
    );
  });
});
