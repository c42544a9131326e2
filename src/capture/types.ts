/**
 * What the capture readers produce: packets with their link type, plus the
 * interface descriptions of pcapng files and diagnostics. A discriminated
 * union on `kind`.
 */
import type { ErrorMode, KubewireError } from '../common/errors.js';
import type { Timestamp } from '../tcp/types.js';

export type CaptureFormat = 'pcap' | 'pcap-ns' | 'pcap-kuznetsov' | 'pcapng';

/** LINKTYPE_* values as they appear in files (not platform DLT_* numbers). */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
  /** DLT_RAW on most platforms, written by some old tools instead of LINKTYPE_RAW. */
  RAW_DLT12: 12,
  /** DLT_RAW on OpenBSD. */
  RAW_DLT14: 14,
} as const;

export interface CapturePacket {
  kind: 'packet';
  /** 1-based packet number, counting every packet record/block in the file. */
  number: number;
  /** Microseconds since the Unix epoch (fractional for sub-µs resolutions). */
  time: Timestamp;
  linkType: number;
  /** pcapng interface id within its section; 0 for pcap. */
  interfaceId: number;
  /**
   * Captured bytes, starting with the link-layer header (FCS removed when the
   * file says one is present). A view into the input chunk (or a copy when the
   * record straddled chunks): valid until the next record is pulled, unless the
   * caller knows the chunks it pushed are never reused.
   */
  data: Uint8Array;
  /** Length of the packet on the wire. */
  originalLength: number;
  /** `data` is shorter than the packet was (snaplen): the tail is missing. */
  truncated: boolean;
  /** File offset of the record header / block start. */
  offset: number;
  /** 1-based pcapng block number (undefined for pcap). */
  block?: number;
}

export interface CaptureInterface {
  kind: 'interface';
  /** 0-based section number (pcapng files may hold several). */
  section: number;
  interfaceId: number;
  linkType: number;
  /** 0 = unlimited. */
  snaplen: number;
  name?: string;
  description?: string;
  /** Seconds per timestamp unit, e.g. 1e-6 or 1e-9. */
  resolution: number;
  offset: number;
  block?: number;
}

export interface CaptureDiagnostic {
  kind: 'diagnostic';
  error: KubewireError;
  /** true when the reader cannot continue (everything before still came out). */
  fatal: boolean;
}

/** A pcapng Decryption Secrets Block: key material for the packets that follow (e.g. a TLS key log). */
export interface CaptureSecrets {
  kind: 'secrets';
  /** Secrets type: 0x544c534b ("TLSK") is an NSS key log. */
  secretsType: number;
  /** The secrets (a copy). Key material: never print it. */
  data: Uint8Array;
  offset: number;
  block?: number;
}

/** DSB secrets type of a TLS key log (NSS format). */
export const SECRETS_TLS_KEY_LOG = 0x544c534b;

export type CaptureRecord = CapturePacket | CaptureInterface | CaptureDiagnostic | CaptureSecrets;

export interface CaptureReaderOptions {
  /** strict: throw the first error; inspect (default): report it as a diagnostic record. */
  mode?: ErrorMode;
  /**
   * Largest captured length accepted for one packet. Default: like libpcap,
   * max(snaplen, 262144), capped at 16 MiB.
   */
  maxPacketBytes?: number;
  /** Largest pcapng block accepted (default 16 MiB, raised to fit maxPacketBytes). */
  maxBlockBytes?: number;
}
