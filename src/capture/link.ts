/**
 * Link-layer headers: find where the network-layer packet starts and which
 * protocol it is (as an EtherType). Wire layouts are in the comments at each
 * case; all multi-byte link fields are big-endian except BSD NULL.
 */
import { readU16BE, readU32 } from './bytes.js';
import { LINKTYPE } from './types.js';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_LEGACY = 0x9100;
/** EtherType values below this are 802.3 lengths, not protocols. */
const ETHERTYPE_MIN = 0x0600;
const MAX_VLAN_TAGS = 8;

/** BSD loopback address families for IPv6 on the systems that write NULL/LOOP captures. */
const AF_INET = 2;
const AF_INET6_VALUES = new Set([10, 23, 24, 26, 28, 30]);

export interface LinkResult {
  /** Offset of the network-layer header in the frame. */
  offset: number;
  /** ETHERTYPE_IPV4 / ETHERTYPE_IPV6 / other EtherType; 0 = not IP. */
  etherType: number;
}

/** The link types `decodeLink` understands. */
export function isSupportedLinkType(linkType: number): boolean {
  switch (linkType) {
    case LINKTYPE.ETHERNET:
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP:
    case LINKTYPE.RAW:
    case LINKTYPE.RAW_DLT12:
    case LINKTYPE.RAW_DLT14:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6:
    case LINKTYPE.LINUX_SLL:
    case LINKTYPE.LINUX_SLL2:
      return true;
    default:
      return false;
  }
}

/**
 * Fills `out` and returns true, or returns false when the frame is too short
 * for its link header (or the link type is unsupported).
 */
export function decodeLink(linkType: number, f: Uint8Array, out: LinkResult): boolean {
  switch (linkType) {
    case LINKTYPE.ETHERNET:
      // dst MAC (6) | src MAC (6) | EtherType (2) [| TPID-tagged VLAN headers (4 each)]
      if (f.length < 14) return false;
      return skipVlanTags(f, 12, out);
    case LINKTYPE.LINUX_SLL2:
      // protocol (2) | reserved (2) | ifindex (4) | ARPHRD (2) | pkttype (1) | addrlen (1) | addr (8)
      if (f.length < 20) return false;
      return vlanAware(readU16BE(f, 0), f, 20, out);
    case LINKTYPE.LINUX_SLL:
      // pkttype (2) | ARPHRD (2) | addrlen (2) | addr (8) | protocol (2)
      if (f.length < 16) return false;
      return vlanAware(readU16BE(f, 14), f, 16, out);
    case LINKTYPE.NULL: {
      // address family (4) in the capturing host's byte order, which may not be the file's: try both.
      if (f.length < 4) return false;
      const le = readU32(f, 0, true);
      return family(le <= 0xffff ? le : readU32(f, 0, false), f, out);
    }
    case LINKTYPE.LOOP:
      // address family (4), always big-endian.
      if (f.length < 4) return false;
      return family(readU32(f, 0, false), f, out);
    case LINKTYPE.RAW:
    case LINKTYPE.RAW_DLT12:
    case LINKTYPE.RAW_DLT14:
      return byVersion(f, 0, out);
    case LINKTYPE.IPV4:
      out.offset = 0;
      out.etherType = ETHERTYPE_IPV4;
      return true;
    case LINKTYPE.IPV6:
      out.offset = 0;
      out.etherType = ETHERTYPE_IPV6;
      return true;
    default:
      return false;
  }
}

/** At `typeOffset` sits an EtherType; loop over stacked 802.1Q / 802.1ad tags. */
function skipVlanTags(f: Uint8Array, typeOffset: number, out: LinkResult): boolean {
  let o = typeOffset;
  let et = readU16BE(f, o);
  for (let tags = 0; isVlanTpid(et) && tags < MAX_VLAN_TAGS; tags++) {
    // TPID (2, already read) | TCI (2) | next EtherType (2)
    if (o + 6 > f.length) return false;
    o += 4;
    et = readU16BE(f, o);
  }
  out.offset = o + 2;
  out.etherType = et >= ETHERTYPE_MIN ? et : 0;
  return true;
}

/** Cooked headers put the EtherType before the payload; a VLAN TPID means a tag follows. */
function vlanAware(protocol: number, f: Uint8Array, payloadOffset: number, out: LinkResult): boolean {
  if (!isVlanTpid(protocol)) {
    out.offset = payloadOffset;
    out.etherType = protocol >= ETHERTYPE_MIN ? protocol : 0;
    return true;
  }
  // TCI (2) | EtherType (2), possibly more tags.
  if (payloadOffset + 4 > f.length) return false;
  return skipVlanTags(f, payloadOffset + 2, out);
}

function isVlanTpid(et: number): boolean {
  return et === ETHERTYPE_VLAN || et === ETHERTYPE_QINQ || et === ETHERTYPE_QINQ_LEGACY;
}

function family(af: number, f: Uint8Array, out: LinkResult): boolean {
  out.offset = 4;
  if (af === AF_INET) out.etherType = ETHERTYPE_IPV4;
  else if (AF_INET6_VALUES.has(af)) out.etherType = ETHERTYPE_IPV6;
  else return byVersion(f, 4, out);
  return true;
}

function byVersion(f: Uint8Array, o: number, out: LinkResult): boolean {
  if (f.length <= o) return false;
  const v = f[o]! >> 4;
  out.offset = o;
  out.etherType = v === 4 ? ETHERTYPE_IPV4 : v === 6 ? ETHERTYPE_IPV6 : 0;
  return true;
}
