/**
 * The live tap: a TCP (or TLS-terminating) forwarding proxy that copies every
 * byte unchanged in both directions and hands a copy of each direction, as
 * `ConnectionEvent`s, to a consumer through a bounded `DecodeQueue`.
 *
 * Forwarding never waits for the consumer: events are queued and the consumer
 * runs in later slices; a consumer that falls behind costs decoded bytes
 * (reported as gaps), never forwarding speed or correctness.
 *
 * Backpressure is end to end: when the socket we write to is full, the
 * socket we read from is paused, so the kernel's windows push back on the
 * sender and the tap holds at most about one high-water mark plus one chunk
 * per direction.
 *
 * Plain TCP sides of a passthrough tap read into one reused buffer each
 * (`ReusedReads`); decoding and recording get their own copy of each read
 * (on the stream path too when the consumer may change it).
 * TLS sides, tunnels through a proxy and the signed-in mode keep Node's
 * stream path, where every read is a fresh buffer.
 */
import { createServer as createNetServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, connect as tlsConnect, type TLSSocket } from 'node:tls';
import { isIP } from 'node:net';
import { KubewireError, type Direction } from '../common/errors.js';
import type { CloseReason, ConnectionEvent, ConnectionGap, Endpoint } from '../tcp/types.js';
import { hostPort, type ListenAddress, type UpstreamAddress, DEFAULT_LISTEN_HOST } from './addresses.js';
import { systemClock, type Clock } from './clock.js';
import type { Worker } from 'node:worker_threads';
import { consumerFailure, decodeBehind, decoderFailed, DecodeQueue, type DecodeQueueOptions, type DecodeQueueStats } from './decode-queue.js';
import { RingQueue } from './decode-ring.js';
import type { ClientCertificate } from '../identity/upstream-credentials.js';
import { SignedInClient, type SignIn } from './signed-in-client.js';
import { openThroughProxy } from './proxy-connect.js';
import { adoptAccepted, ReusedReads } from './reused-reads.js';
import { statusResponse } from './status-response.js';

export interface TapTlsListener {
  /** PEM certificate chain the tap presents to clients. */
  cert: string | Buffer;
  /** PEM private key of `cert`. */
  key: string | Buffer;
}

export interface TapOptions {
  /** Where to accept. Default 127.0.0.1, port 0 (any free port). */
  listen?: Partial<ListenAddress>;
  /** Where to forward. */
  upstream: UpstreamAddress;
  /**
   * For an https upstream: PEM CA(s) to verify it against instead of the
   * system's roots.
   */
  upstreamCa?: string | Buffer | Array<string | Buffer>;
  /** For an https upstream: skip certificate verification. */
  insecure?: boolean;
  /** For an https upstream: SNI and name to verify (default: the upstream host when it is a name). */
  servername?: string;
  /** Terminate TLS on the listener with this certificate (the decoder needs plaintext). */
  tls?: TapTlsListener;
  /**
   * Sign in upstream as a kubeconfig user instead of passing the client's
   * credentials through: every request must carry the local token, which is
   * replaced by the user's credentials.
   */
  signIn?: SignIn;
  /** Reach the upstream through this HTTP proxy (CONNECT). */
  proxyUrl?: URL;
  /** TLS secrets of both sides, as NSS key log lines (for decrypting captures of either hop). */
  keylog?: (line: Buffer) => void;
  /** Receives every connection event, in order, off the forwarding path. */
  consumer?: (event: ConnectionEvent) => void;
  /**
   * Instead of `consumer`: a worker thread that reads the events with
   * `readRing` (see `RingQueue`), so that decoding runs beside forwarding
   * instead of taking turns with it. `onMessage` gets the worker's other
   * messages.
   */
  worker?: { worker: Worker; onMessage?: (message: unknown) => void };
  /**
   * Receives every event synchronously, on the forwarding path, before it is
   * queued for `consumer`: for a recorder that must see every byte. Must be
   * cheap and bound its own buffering; exceptions are caught and reported.
   * A data event's bytes are valid during the call only (copy what is kept).
   */
  record?: (event: ConnectionEvent) => void;
  /**
   * Every data event's bytes are a copy of the tap's own, which `consumer`
   * may change (a decoder that unmasks WebSocket payloads where they lie).
   * Reads into reused buffers are copied anyway; with it, reads on the stream
   * path (TLS sides, tunnels, signed in), which are also written on, are
   * copied too. Default false.
   */
  consumerOwnsBytes?: boolean;
  /** Bounds of the queue between forwarding and `consumer` (`maxBytes`: the worker's ring too). */
  queue?: Pick<DecodeQueueOptions, 'maxBytes' | 'sliceMs' | 'maxSliceMs'>;
  /** Problems worth telling the user (also sent to `consumer` as diagnostics where they concern a connection). */
  onReport?: (error: KubewireError) => void;
  /** Give up connecting upstream after this long. Default 10 s. */
  connectTimeoutMs?: number;
  clock?: Clock;
}

export interface TapStats {
  accepted: number;
  active: number;
  /** Bytes forwarded client→server and server→client. */
  bytesClientToServer: number;
  bytesServerToClient: number;
  /** Largest amount the tap ever had waiting in one socket's write buffer. */
  peakWriteBuffered: number;
  upstreamFailures: number;
  queue: DecodeQueueStats;
}

export interface Tap {
  /** The address actually bound (port resolved when 0 was asked). */
  readonly address: ListenAddress;
  /** `http(s)://host:port` of the tap, for kubeconfig. */
  readonly url: string;
  stats(): TapStats;
  /**
   * Stop accepting, let open connections finish for up to `graceMs`, then
   * cut the rest (reported as closed with reason `end-of-input`) and wait
   * until the consumer has seen every event.
   */
  close(graceMs?: number): Promise<void>;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** The decoder understands HTTP/1.1 upgrades only; offering h2 would hide them. */
const ALPN = ['http/1.1'];

export async function startTap(opts: TapOptions): Promise<Tap> {
  const tap = new TapServer(opts);
  await tap.listen();
  return tap;
}

class TapServer implements Tap {
  address: ListenAddress = { host: DEFAULT_LISTEN_HOST, port: 0 };
  url = '';
  private readonly server: Server;
  private readonly queue: DecodeQueue | RingQueue;
  private readonly clock: Clock;
  private readonly active = new Set<TappedConnection>();
  private allClosedWaiters: Array<() => void> = [];
  private nextConnection = 1;
  /** Connections whose decoding has fallen behind (reported once each). */
  private readonly behind = new Set<number>();
  private closing = false;
  readonly counters = {
    accepted: 0,
    bytesClientToServer: 0,
    bytesServerToClient: 0,
    peakWriteBuffered: 0,
    upstreamFailures: 0,
  };

  constructor(readonly opts: TapOptions) {
    this.clock = opts.clock ?? systemClock;
    const onDrop = (gap: ConnectionGap) => {
      // One report per connection: the gaps themselves carry the detail,
      // and a flood of reports would only slow a decoder already behind.
      if (this.behind.has(gap.connection)) return;
      this.behind.add(gap.connection);
      const error = decodeBehind(gap);
      this.report(error);
      this.queue.push({ kind: 'diagnostic', connection: gap.connection, time: gap.time, error });
    };
    if (opts.worker) {
      this.queue = new RingQueue(opts.worker.worker, {
        maxBytes: opts.queue?.maxBytes,
        onDrop,
        onConsumerError: (message, at) => this.report(decoderFailed(message, at)),
        onMessage: opts.worker.onMessage,
      });
    } else {
      const consumer = opts.consumer ?? (() => {});
      this.queue = new DecodeQueue(consumer, {
        ...opts.queue,
        onConsumerError: (error, event) => this.report(consumerFailure(error, event)),
        onDrop,
      });
    }
    if (opts.tls) {
      // Passing through, ask for a client certificate (and accept any, or none) only to tell
      // the user that it stops here: ending TLS, the tap cannot present it upstream.
      const passthrough = !opts.signIn;
      const server = createTlsServer({
        cert: opts.tls.cert,
        key: opts.tls.key,
        allowHalfOpen: true,
        ALPNProtocols: ALPN,
        requestCert: passthrough,
        rejectUnauthorized: false,
      });
      server.on('secureConnection', (socket: TLSSocket) => {
        if (passthrough) this.noticeClientCertificate(socket);
        this.accept(socket);
      });
      if (opts.keylog) server.on('keylog', (line: Buffer) => this.keylog(line));
      server.on('tlsClientError', (err) => {
        this.report(new KubewireError('tap', 'TAP_CLIENT_TLS_FAILED', 'connection', `client TLS handshake failed: ${err.message}`));
      });
      this.server = server;
    } else {
      // Paused at accept, so that the connection can be read into a reused buffer from its first byte.
      this.server = createNetServer({ allowHalfOpen: true, pauseOnConnect: this.reusesBuffers }, (socket) => this.accept(socket));
    }
    // A listening socket error after start (e.g. EMFILE on accept) must not crash the process.
    this.server.on('error', (err) => {
      if (this.address.port !== 0) this.report(new KubewireError('tap', 'TAP_LISTEN_FAILED', 'connection', err.message));
    });
  }

  /** Said once: the first client that presents a certificate to a forwarding tap. */
  private clientCertificateNoticed = false;

  private noticeClientCertificate(socket: TLSSocket): void {
    if (this.clientCertificateNoticed) return;
    const cert = socket.getPeerCertificate();
    if (!cert || Object.keys(cert).length === 0) return;
    this.clientCertificateNoticed = true;
    this.report(
      new KubewireError(
        'tap',
        'TAP_CLIENT_CERTIFICATE_NOT_FORWARDED',
        'connection',
        'the client presented a certificate, which a forwarder that ends TLS cannot pass on: the upstream sees requests without it (kubectl: Unauthorized). Leave out --upstream and the tap signs in with the kubeconfig user\'s certificate itself',
      ),
    );
  }

  listen(): Promise<void> {
    const host = this.opts.listen?.host ?? DEFAULT_LISTEN_HOST;
    const port = this.opts.listen?.port ?? 0;
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host, port }, () => {
        this.server.off('error', onError);
        const a = this.server.address();
        if (a && typeof a === 'object') this.address = { host: a.address, port: a.port };
        this.url = `${this.opts.tls ? 'https' : 'http'}://${hostPort(this.address.host, this.address.port)}`;
        resolve();
      });
    });
  }

  stats(): TapStats {
    return { ...this.counters, active: this.active.size, queue: this.queue.stats() };
  }

  async close(graceMs = 5_000): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.server.close();
    }
    if (this.active.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.allClosedWaiters.push(resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
      for (const c of [...this.active]) c.cut();
    }
    await this.queue.idle();
  }

  /**
   * Plain TCP sockets read into reused buffers (see `ReusedReads`); the
   * signed-in mode keeps the stream path, its gate holds on to client chunks.
   * @internal
   */
  get reusesBuffers(): boolean {
    return !this.opts.signIn;
  }

  /** Whether anything looks at the bytes: without a consumer or recorder, data events are not made. @internal */
  get wantsData(): boolean {
    return this.opts.consumer !== undefined || this.opts.worker !== undefined || this.opts.record !== undefined;
  }

  /**
   * The bytes for a data event of a read made into a reused buffer: a copy,
   * unless the queue copies them itself (the worker's ring) or would only
   * turn them into a gap and no recorder needs them (then the view, which
   * nothing keeps).
   * @internal
   */
  ownBytes(view: Uint8Array): Uint8Array {
    if (this.queue instanceof RingQueue) return view;
    if (!this.opts.record && this.queue.wouldDrop(view.length)) return view;
    // Not Buffer.from(view): it copies element by element, several times slower than a memcpy.
    const copy = Buffer.allocUnsafeSlow(view.length);
    copy.set(view);
    return copy;
  }

  /**
   * The bytes for a data event of a read that is also written on: the read
   * itself, or a copy when the consumer may change them.
   * @internal
   */
  sharedBytes(chunk: Uint8Array): Uint8Array {
    return this.opts.consumerOwnsBytes && !(this.queue instanceof RingQueue) ? this.ownBytes(chunk) : chunk;
  }

  /** @internal */
  emit(event: ConnectionEvent): void {
    if (this.opts.record) {
      try {
        this.opts.record(event);
      } catch (error) {
        this.report(new KubewireError('tap', 'TAP_RECORDER_FAILED', 'connection', `recorder threw: ${String(error)}`));
      }
    }
    this.queue.push(event);
  }

  /**
   * Connections are numbered when their upstream answers, so that numbers,
   * event order and the order of handshakes in a `--write` recording agree:
   * decoding the recording numbers them the same way.
   * @internal
   */
  takeConnectionNumber(): number {
    return this.nextConnection++;
  }

  /** @internal */
  now(): number {
    return this.clock();
  }

  /** @internal */
  report(error: KubewireError): void {
    try {
      this.opts.onReport?.(error);
    } catch {
      // Reporting is best effort; forwarding goes on.
    }
  }

  /** @internal */
  closed(c: TappedConnection): void {
    this.active.delete(c);
    this.behind.delete(c.connectionNumber);
    if (this.active.size === 0) {
      const waiters = this.allClosedWaiters;
      this.allClosedWaiters = [];
      for (const w of waiters) w();
    }
  }

  private accept(client: Socket): void {
    if (this.closing) {
      client.destroy();
      return;
    }
    this.counters.accepted++;
    let reads: ReusedReads | undefined;
    if (this.reusesBuffers && !this.opts.tls) {
      reads = new ReusedReads();
      const adopted = adoptAccepted(client, reads, true);
      if (adopted) client = adopted;
      else {
        reads = undefined;
        // Paused at accept: the stream path must be started by hand.
        client.resume();
        client.pause();
      }
    }
    const c = new TappedConnection(this, client, reads);
    this.active.add(c);
    c.start();
  }

  /** @internal */
  keylog(line: Buffer): void {
    try {
      this.opts.keylog?.(line);
    } catch (error) {
      this.report(new KubewireError('tap', 'TAP_KEYLOG_FAILED', 'connection', `writing TLS secrets failed: ${String(error)}`));
    }
  }

  /**
   * The upstream socket; a plain one reads into `reads` when given.
   * @internal
   */
  async openUpstream(cert?: ClientCertificate, reads?: ReusedReads): Promise<{ socket: Socket; reads?: ReusedReads }> {
    const { upstream } = this.opts;
    const tunnel = this.opts.proxyUrl ? await openThroughProxy(this.opts.proxyUrl, upstream, this.connectTimeoutMs) : undefined;
    if (upstream.protocol === 'http') {
      if (tunnel) return { socket: tunnel };
      const onread = reads ? { onread: reads.onread } : {};
      return { socket: netConnect({ host: upstream.host, port: upstream.port, allowHalfOpen: true, ...onread }), reads };
    }
    const servername = this.opts.servername ?? (isIP(upstream.host) ? undefined : upstream.host);
    const socket = tlsConnect({
      ...(tunnel ? { socket: tunnel } : { host: upstream.host, port: upstream.port }),
      servername,
      ca: this.opts.upstreamCa,
      rejectUnauthorized: !this.opts.insecure,
      ALPNProtocols: ALPN,
      cert: cert?.cert,
      key: cert?.key,
      // Honoured by tls.connect though missing from its typings.
      ...({ allowHalfOpen: true } as object),
    });
    if (this.opts.keylog) socket.on('keylog', (line: Buffer) => this.keylog(line));
    return { socket };
  }

  /** @internal */
  get connectTimeoutMs(): number {
    return this.opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  }
}

/** One client connection and its upstream twin. */
class TappedConnection {
  private upstream: Socket | null = null;
  private connected = false;
  private readonly offsets = { clientToServer: 0, serverToClient: 0 };
  private firstFin: Direction | undefined;
  private resetBy: Direction | undefined;
  private openSent = false;
  private closeSent = false;
  private socketsOpen = 2;
  private finished = false;
  /** Time of the last event about this connection (open or data). */
  private lastTime = 0;
  /** 0 until the upstream connection is up (see `takeConnectionNumber`). */
  private id = 0;
  /** Signed-in mode: the gate between the client and the upstream. */
  private signed: SignedInClient | undefined;
  private dialing: Promise<boolean> | undefined;
  /** The upstream failed and the client is waiting for its answer. */
  private refusing = false;

  get connectionNumber(): number {
    return this.id;
  }

  /** Set when the upstream socket reads into a reused buffer. */
  private upstreamReads: ReusedReads | undefined;

  constructor(
    private readonly tap: TapServer,
    private readonly client: Socket,
    /** Set when the client socket reads into a reused buffer. */
    private readonly clientReads?: ReusedReads,
  ) {
    // Until the upstream is there, the client socket stays paused (no 'data'
    // listener yet), so nothing is read that could not be forwarded.
    client.on('error', (err) => this.onSocketError('clientToServer', err));
    client.once('close', () => this.onSocketClose(client));
  }

  /** Passthrough mode: connect at once; signed-in mode: read the client, connect on its first good request. */
  start(): void {
    const signIn = this.tap.opts.signIn;
    if (!signIn) {
      void this.dial();
      return;
    }
    this.client.setNoDelay(true);
    this.signed = new SignedInClient(this.client, signIn, {
      connect: () => (this.dialing ??= this.dial(signIn)),
      forward: (wire, shown) => this.forwardUp(wire, shown),
      answer: (status, reason, message) => this.answer(status, reason, message),
      refused: (message) => this.tap.report(new KubewireError('tap', 'TAP_LOCAL_UNAUTHORIZED', 'connection', message)),
    });
    this.signed.start();
    this.client.once('end', () => {
      this.firstFin ??= 'clientToServer';
      // After what is queued towards the upstream has gone.
      this.signed?.after(() => {
        if (this.upstream && !this.upstream.destroyed) this.upstream.end();
        else this.client.end();
      });
    });
  }

  private dial(signIn?: SignIn): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const opened = (async () =>
        this.tap.openUpstream(
          signIn ? await signIn.credentials.clientCertificate() : undefined,
          this.tap.reusesBuffers ? new ReusedReads() : undefined,
        ))();
      opened.then(
        ({ socket, reads }) => {
          this.upstreamReads = reads;
          this.attach(socket, resolve);
        },
        (err: Error) => {
          this.upstreamFailed(err);
          resolve(false);
        },
      );
    });
  }

  private attach(up: Socket, resolve: (ok: boolean) => void): void {
    this.upstream = up;
    const timer = setTimeout(() => {
      up.destroy(new Error(`no connection after ${this.tap.connectTimeoutMs} ms`));
    }, this.tap.connectTimeoutMs);
    const onConnect = () => {
      clearTimeout(timer);
      this.connected = true;
      if (this.client.destroyed) {
        up.destroy();
        resolve(false);
        return;
      }
      // Forward each write as soon as it arrives: with Nagle on, kubectl's
      // many tiny writes (every SPDY field is its own write) would wait for
      // ACKs at the tap and add latency the direct path does not have.
      up.setNoDelay(true);
      this.client.setNoDelay(true);
      this.sendOpen(up);
      if (!this.signed) this.pump(this.client, up, 'clientToServer', this.clientReads);
      this.pump(up, this.client, 'serverToClient', this.upstreamReads);
      resolve(true);
    };
    const tls = this.tap.opts.upstream.protocol === 'https';
    // A tunnel through a proxy is already connected when TLS starts over it.
    up.once(tls ? 'secureConnect' : 'connect', onConnect);
    if (!tls && !up.connecting) queueMicrotask(onConnect);
    up.on('error', (err) => {
      clearTimeout(timer);
      if (!this.connected) resolve(false);
      this.onSocketError('serverToClient', err);
    });
    up.once('close', () => {
      clearTimeout(timer);
      if (!this.connected) resolve(false);
      this.onSocketClose(up);
    });
  }

  /** Signed-in mode: send to the upstream; what decoding sees is `shown`. */
  private async forwardUp(wire: Uint8Array, shown: Uint8Array): Promise<void> {
    const up = this.upstream;
    if (!up || up.destroyed || up.writableEnded) return;
    const offset = this.offsets.clientToServer;
    this.offsets.clientToServer = offset + shown.length;
    this.tap.counters.bytesClientToServer += wire.length;
    const bytes = this.tap.sharedBytes(shown);
    this.tap.emit({ kind: 'data', connection: this.id, direction: 'clientToServer', bytes, offset, time: (this.lastTime = this.tap.now()) });
    const more = up.write(wire);
    if (up.writableLength > this.tap.counters.peakWriteBuffered) this.tap.counters.peakWriteBuffered = up.writableLength;
    if (!more) {
      await new Promise<void>((resolve) => {
        const done = () => {
          up.off('drain', done);
          up.off('close', done);
          resolve();
        };
        up.on('drain', done);
        up.on('close', done);
      });
    }
  }

  /** Answer the client ourselves (nothing of this reaches the upstream) and close. */
  private answer(status: number, reason: string, message: string): void {
    if (!this.client.destroyed) this.client.end(statusResponse(status, reason, message));
    this.upstream?.destroy();
  }

  private upstreamFailed(err: Error): void {
    this.tap.counters.upstreamFailures++;
    const error = new KubewireError(
      'tap',
      'TAP_UPSTREAM_CONNECT_FAILED',
      'connection',
      `cannot reach upstream ${hostPort(this.tap.opts.upstream.host, this.tap.opts.upstream.port)}: ${err.message}`,
    );
    this.tap.report(error);
    this.tap.emit({ kind: 'diagnostic', time: this.tap.now(), error });
    // Signed in, the request was read already: answer it. Passing through,
    // wait for the request first.
    if (this.signed) this.answer(502, 'BadGateway', `kubewire tap: ${error.message}`);
    else this.refuse(error.message);
    // No socket was made: the upstream counts as closed already.
    if (!this.upstream) this.socketsOpen--;
  }

  /** Forced end at shutdown: report, then drop both sockets. */
  cut(): void {
    this.sendClose('end-of-input');
    this.client.destroy();
    this.upstream?.destroy();
  }

  private sendOpen(up: Socket): void {
    this.openSent = true;
    this.id = this.tap.takeConnectionNumber();
    this.tap.emit({
      kind: 'open',
      connection: this.id,
      client: endpoint(this.client.remoteAddress, this.client.remotePort),
      server: endpoint(up.remoteAddress, up.remotePort),
      time: (this.lastTime = this.tap.now()),
      startedLate: false,
    });
  }

  private pump(from: Socket, to: Socket, direction: Direction, reads: ReusedReads | undefined): void {
    from.once('end', () => {
      this.firstFin ??= direction;
      if (!to.destroyed) to.end();
    });
    if (reads) {
      this.pumpReused(from, reads, to, direction);
      return;
    }
    const counters = this.tap.counters;
    const c2s = direction === 'clientToServer';
    from.on('data', (chunk: Buffer) => {
      if (!c2s) this.signed?.server(chunk);
      const offset = this.offsets[direction];
      this.offsets[direction] = offset + chunk.length;
      if (c2s) counters.bytesClientToServer += chunk.length;
      else counters.bytesServerToClient += chunk.length;
      const bytes = this.tap.sharedBytes(chunk);
      this.tap.emit({ kind: 'data', connection: this.id, direction, bytes, offset, time: (this.lastTime = this.tap.now()) });
      if (to.destroyed || to.writableEnded) return;
      const more = to.write(chunk);
      if (to.writableLength > counters.peakWriteBuffered) counters.peakWriteBuffered = to.writableLength;
      if (!more) from.pause();
    });
    to.on('drain', () => {
      if (!from.destroyed) from.resume();
    });
    // A client accepted paused whose handle could not be adopted.
    if (from.readableFlowing === false) from.resume();
  }

  /**
   * Forwarding from a socket that reads into a reused buffer: a write that
   * does not complete at once still points into the buffer, so reading
   * pauses until every write made from it is done.
   */
  private pumpReused(from: Socket, reads: ReusedReads, to: Socket, direction: Direction): void {
    const tap = this.tap;
    const counters = tap.counters;
    const c2s = direction === 'clientToServer';
    const wantsData = tap.wantsData;
    let pending = 0;
    let waiting = false;
    const written = () => {
      if (--pending === 0 && waiting) {
        waiting = false;
        if (!from.destroyed) from.resume();
      }
    };
    const more = reads.setReader((view) => {
      const offset = this.offsets[direction];
      this.offsets[direction] = offset + view.length;
      if (c2s) counters.bytesClientToServer += view.length;
      else counters.bytesServerToClient += view.length;
      this.lastTime = tap.now();
      if (wantsData) {
        tap.emit({ kind: 'data', connection: this.id, direction, bytes: tap.ownBytes(view), offset, time: this.lastTime });
      }
      if (to.destroyed || to.writableEnded) return true;
      pending++;
      to.write(view, written);
      const queued = to.writableLength;
      if (queued === 0) return true;
      if (queued > counters.peakWriteBuffered) counters.peakWriteBuffered = queued;
      waiting = true;
      return false;
    });
    if (more) from.resume();
    else waiting = true;
  }

  private onSocketError(direction: Direction, err: Error & { code?: string }): void {
    const other = direction === 'clientToServer' ? this.upstream : this.client;
    if (!this.connected && direction === 'serverToClient') {
      this.upstreamFailed(err);
      return;
    }
    this.resetBy ??= direction;
    // Pass the abort on: a reset on one side becomes a reset on the other
    // where the socket type allows it, so both ends see what really happened.
    if (other && !other.destroyed) {
      if (typeof other.resetAndDestroy === 'function' && !(other as TLSSocket).encrypted) other.resetAndDestroy();
      else other.destroy();
    }
  }

  /**
   * The upstream cannot be reached: a client that sends an HTTP request gets
   * a 502 saying why (kubectl prints it), anything else a closed connection. Nothing was forwarded, so nothing is
   * changed on the way.
   */
  private refuse(why: string): void {
    const client = this.client;
    if (client.destroyed) return;
    this.refusing = true;
    const timer = setTimeout(() => client.destroy(), REFUSE_WAIT_MS);
    const first = (chunk: Buffer) => {
      clearTimeout(timer);
      client.pause();
      const requestLine = chunk.subarray(0, 2048).toString('latin1').split('\n', 1)[0]!;
      if (!/^[A-Z]+ \S+ HTTP\/1\.[01]\r?$/.test(requestLine)) {
        client.destroy();
        return;
      }
      // Plain text: client-go quotes a text body in its error ("an error on the
      // server (…)"), where a Status it cannot place would read "unknown".
      const body = `kubewire tap: ${why}\n`;
      client.end(
        `HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    if (this.clientReads) {
      let seen = false;
      this.clientReads.setReader((view) => {
        if (!seen) first(view);
        seen = true;
        return false;
      });
    } else client.once('data', first);
    client.resume();
  }

  private onSocketClose(socket: Socket): void {
    this.socketsOpen--;
    const other = socket === this.client ? this.upstream : this.client;
    if (other && !other.destroyed) {
      // The closed side can take no more bytes and will send none: finish
      // what is queued towards the other side, then let it go.
      if (!this.connected) {
        // A client being refused gets its answer first (`refuse` bounds the wait).
        if (!this.refusing) other.destroy();
      } else other.end();
    }
    const neverDialed = socket === this.client && !this.upstream && !this.dialing;
    if (this.socketsOpen === 0 || (socket === this.upstream && !this.connected) || neverDialed) this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.openSent) {
      if (this.resetBy !== undefined) this.sendClose('rst', this.resetBy);
      else this.sendClose('fin', this.firstFin);
    }
    this.tap.closed(this);
  }

  private sendClose(reason: CloseReason, direction?: Direction): void {
    if (!this.openSent || this.closeSent) return;
    this.closeSent = true;
    // A connection cut at shutdown was last seen with its last bytes, which
    // is also where a recording of it ends (as a capture stopped mid-way).
    const time = reason === 'end-of-input' ? this.lastTime : this.tap.now();
    const ev: ConnectionEvent = { kind: 'close', connection: this.id, reason, time };
    if (direction !== undefined) ev.direction = direction;
    this.tap.emit(ev);
  }
}

/** How long a client whose upstream failed may take to send its request before it is cut. */
const REFUSE_WAIT_MS = 2000;

function endpoint(address: string | undefined, port: number | undefined): Endpoint {
  // Dual-stack listeners report IPv4 peers as IPv4-mapped IPv6; captures and
  // users know them as plain IPv4.
  // A zone id (fe80::1%eth0) has no place in an IP header.
  const a = (address ?? '0.0.0.0').replace(/%.*$/, '');
  return { address: a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a, port: port ?? 0 };
}
