/**
 * Batched writes to stdout: one `write` per ~64 KiB or per turn of the event
 * loop, whichever comes first. Per-event writes would cost a syscall each;
 * flushing on the next turn keeps a live pipe (`tcpdump -U -w - | kubewire
 * decode - --ndjson`) showing events as soon as their packets were read.
 */
const FLUSH_BYTES = 64 * 1024;

export class BatchedWriter {
  private parts: Array<string | Uint8Array> = [];
  private size = 0;
  private scheduled = false;

  constructor(private readonly out: NodeJS.WritableStream) {}

  write(part: string | Uint8Array): void {
    this.parts.push(part);
    this.size += part.length;
    if (this.size >= FLUSH_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  flush(): void {
    if (this.parts.length === 0) return;
    const parts = this.parts;
    this.parts = [];
    this.size = 0;
    if (parts.every((p) => typeof p === 'string')) {
      this.out.write(parts.join(''));
    } else {
      this.out.write(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p))));
    }
  }

  /** Flush and wait until the stream has taken everything. */
  async end(): Promise<void> {
    this.flush();
    // A write of nothing calls back once everything before it is handed on.
    await new Promise<void>((resolve) => this.out.write('', () => resolve()));
  }
}
