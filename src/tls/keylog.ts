/**
 * NSS key log format (what SSLKEYLOGFILE, Node's `keylog` event, Go's
 * KeyLogWriter and `editcap --inject-secrets tls` write): one secret a line,
 *
 *   LABEL <client random, 32 bytes hex> <secret hex>
 *
 * `#` starts a comment. TLS 1.2 uses `CLIENT_RANDOM` (the 48-byte master
 * secret); TLS 1.3 one line per traffic secret. Secrets are looked up by the
 * ClientHello's random, so keys for another connection simply never match.
 *
 * Key material is a secret: nothing here prints or serialises it.
 */

export type SecretLabel =
  | 'CLIENT_RANDOM'
  | 'CLIENT_EARLY_TRAFFIC_SECRET'
  | 'CLIENT_HANDSHAKE_TRAFFIC_SECRET'
  | 'SERVER_HANDSHAKE_TRAFFIC_SECRET'
  | 'CLIENT_TRAFFIC_SECRET_0'
  | 'SERVER_TRAFFIC_SECRET_0'
  | 'EARLY_EXPORTER_SECRET'
  | 'EXPORTER_SECRET';

const LABELS = new Set<string>([
  'CLIENT_RANDOM',
  'CLIENT_EARLY_TRAFFIC_SECRET',
  'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
  'SERVER_HANDSHAKE_TRAFFIC_SECRET',
  'CLIENT_TRAFFIC_SECRET_0',
  'SERVER_TRAFFIC_SECRET_0',
  'EARLY_EXPORTER_SECRET',
  'EXPORTER_SECRET',
]);

/** The secrets known for one client random. */
export type ConnectionSecrets = Partial<Record<SecretLabel, Uint8Array>>;

export interface KeyLogStats {
  /** Secret lines taken. */
  secrets: number;
  /** Lines that are not a key log line (skipped). */
  malformed: number;
  /** Well-formed lines of a kind we do not use (`RSA …`, unknown labels). */
  ignored: number;
}

const HEX = /^[0-9a-fA-F]+$/;
/** Longest line considered (a SHA-384 secret line is ~170 characters). */
const MAX_LINE = 1024;

/**
 * Secrets by client random. Fed with key log text (in any chunks: a line is
 * taken once its newline arrives, or at `flush`) or with the bytes of a pcapng
 * Decryption Secrets Block.
 */
export class TlsKeyLog {
  private readonly byRandom = new Map<string, ConnectionSecrets>();
  private tail = '';
  readonly stats: KeyLogStats = { secrets: 0, malformed: 0, ignored: 0 };
  /**
   * Called on a lookup that finds nothing: an I/O edge may read what was
   * appended to a growing key log file (and add it) before the lookup is
   * retried. It decides itself how often it really reads.
   */
  refresh: (() => void) | undefined;

  /** Whether secrets may still arrive (a watched file): a connection without a key then waits a little for it. */
  get growing(): boolean {
    return this.refresh !== undefined;
  }

  get size(): number {
    return this.byRandom.size;
  }

  /** Add key log text; a last line without its newline waits for the next call or `flush`. */
  addText(text: string): void {
    const all = this.tail + text;
    const lines = all.split('\n');
    this.tail = lines.pop()!;
    if (this.tail.length > MAX_LINE) {
      this.stats.malformed++;
      this.tail = '';
    }
    for (const l of lines) this.line(l);
  }

  /** End of a file: its last line counts even without a newline. */
  flush(): void {
    const t = this.tail;
    this.tail = '';
    if (t) this.line(t);
  }

  /** A pcapng Decryption Secrets Block of type TLS key log: its data is key log text. */
  addSecretsBlock(data: Uint8Array): void {
    this.addText(Buffer.from(data.buffer, data.byteOffset, data.length).toString('latin1'));
    this.flush();
  }

  lookup(clientRandom: Uint8Array): ConnectionSecrets | undefined {
    const key = Buffer.from(clientRandom.buffer, clientRandom.byteOffset, clientRandom.length).toString('hex');
    let s = this.byRandom.get(key);
    if (s === undefined && this.refresh) {
      this.refresh();
      s = this.byRandom.get(key);
    }
    return s;
  }

  private line(raw: string): void {
    const l = raw.trim();
    if (l === '' || l.startsWith('#')) return;
    const parts = l.split(/\s+/);
    if (parts.length !== 3) {
      this.stats.malformed++;
      return;
    }
    const [label, random, secret] = parts as [string, string, string];
    if (!/^[A-Z0-9_]+$/.test(label)) {
      this.stats.malformed++;
      return;
    }
    if (!LABELS.has(label)) {
      // RSA <encrypted pre-master> <pre-master>, CLIENT_TRAFFIC_SECRET_1, …: valid lines we do not use
      if (HEX.test(random) && HEX.test(secret)) this.stats.ignored++;
      else this.stats.malformed++;
      return;
    }
    const secretOk = HEX.test(secret) && secret.length % 2 === 0 && (label === 'CLIENT_RANDOM' ? secret.length === 96 : secret.length >= 32 && secret.length <= 128);
    if (random.length !== 64 || !HEX.test(random) || !secretOk) {
      this.stats.malformed++;
      return;
    }
    const key = random.toLowerCase();
    let s = this.byRandom.get(key);
    if (!s) this.byRandom.set(key, (s = {}));
    s[label as SecretLabel] = Uint8Array.from(Buffer.from(secret, 'hex'));
    this.stats.secrets++;
  }
}
