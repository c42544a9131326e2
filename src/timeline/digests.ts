/**
 * Where the running sha256 of each stream direction is computed. The
 * timeline only feeds bytes in and reads the hex digest for the summary;
 * by default it hashes inline, and an edge (the CLI) may hand it an engine
 * that hashes elsewhere, e.g. on a worker thread while parsing goes on.
 */
import { createHash, type Hash } from 'node:crypto';

/** The running digest of one stream direction. */
export interface RunningDigest {
  /**
   * Add bytes. The view is only read during the call (an engine that hashes
   * later copies it first), so it may be reused afterwards.
   */
  update(bytes: Uint8Array): void;
  /** sha256 (hex) of the bytes so far. An engine that hashes elsewhere answers once it has settled. */
  hex(): string;
  /**
   * Remember the state after the bytes so far (one mark at a time). Optional:
   * without it (and `rewind`), `dataPieces` leaves that digest's streams whole.
   */
  mark?(): void;
  /** Go back to the marked state, as if the bytes added since had never come. */
  rewind?(): void;
}

export interface DigestEngine {
  open(): RunningDigest;
}

class InlineDigest implements RunningDigest {
  private hash: Hash = createHash('sha256');
  private marked: Hash | null = null;
  update(bytes: Uint8Array): void {
    this.hash.update(bytes);
  }
  mark(): void {
    this.marked = this.hash.copy();
  }
  rewind(): void {
    if (this.marked) this.hash = this.marked;
    this.marked = null;
  }
  hex(): string {
    return this.hash.copy().digest('hex');
  }
}

/** Hashes in the caller's thread, as each view arrives. */
export const INLINE_DIGESTS: DigestEngine = { open: () => new InlineDigest() };
