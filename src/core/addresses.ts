// Which IP addresses an output download may connect to. An output URL comes from FLORA's reply, so a hostile
// or compromised server could point it (or a redirect, or a DNS name) at the user's own machine or network:
// the router's admin page, a cloud metadata service, a local dev server. Only public unicast addresses are
// fetched; the sandbox's own origin is let through elsewhere, by exact origin (see download.ts).
import { isIP } from 'node:net';

type RefusedAddressKind =
  'loopback' | 'private' | 'sharedAddressSpace' | 'linkLocal' | 'uniqueLocal' | 'unspecified' | 'multicast' | 'reserved';

interface Ipv4Range {
  base: number;
  bits: number;
  kind: RefusedAddressKind;
}

function ipv4Range(text: string, bits: number, kind: RefusedAddressKind): Ipv4Range {
  const value = parseIpv4(text);
  if (value === undefined) throw new Error(`Bad range ${text}`);
  return { base: value, bits, kind };
}

const REFUSED_IPV4: readonly Ipv4Range[] = [
  ipv4Range('0.0.0.0', 8, 'unspecified'), // "this network"; 0.0.0.0 reaches the local host on Linux and macOS
  ipv4Range('10.0.0.0', 8, 'private'),
  ipv4Range('100.64.0.0', 10, 'sharedAddressSpace'), // carrier-grade NAT
  ipv4Range('127.0.0.0', 8, 'loopback'),
  ipv4Range('169.254.0.0', 16, 'linkLocal'), // includes the cloud metadata service 169.254.169.254
  ipv4Range('172.16.0.0', 12, 'private'),
  ipv4Range('192.0.0.0', 24, 'reserved'), // IETF protocol assignments
  ipv4Range('192.168.0.0', 16, 'private'),
  ipv4Range('198.18.0.0', 15, 'reserved'), // benchmarking, used inside some networks
  ipv4Range('224.0.0.0', 4, 'multicast'),
  ipv4Range('240.0.0.0', 4, 'reserved'), // reserved, and 255.255.255.255 broadcast
];

/** Dotted-quad IPv4 as an unsigned 32-bit number; undefined for anything else. */
function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

function classifyIpv4(value: number): RefusedAddressKind | undefined {
  for (const range of REFUSED_IPV4) {
    const size = 2 ** (32 - range.bits);
    if (Math.floor(value / size) === Math.floor(range.base / size)) return range.kind;
  }
  return undefined;
}

/** An IPv6 address as its eight 16-bit groups; undefined when it is not one. */
function parseIpv6(text: string): number[] | undefined {
  let address = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  // A zone index (fe80::1%eth0) names an interface, not part of the address.
  const zone = address.indexOf('%');
  if (zone >= 0) address = address.slice(0, zone);
  if (isIP(address) !== 6) return undefined;
  // A trailing dotted IPv4 (::ffff:127.0.0.1) is two groups written another way.
  const lastColon = address.lastIndexOf(':');
  const last = address.slice(lastColon + 1);
  if (last.includes('.')) {
    const ipv4 = parseIpv4(last);
    if (ipv4 === undefined) return undefined;
    address = `${address.slice(0, lastColon + 1)}${Math.floor(ipv4 / 65536).toString(16)}:${(ipv4 % 65536).toString(16)}`;
  }
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (half: string | undefined): number[] =>
    half === undefined || half.length === 0 ? [] : half.split(':').map((group) => Number.parseInt(group, 16));
  const head = groupsOf(halves[0]);
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const rest = groupsOf(halves[1]);
  const missing = 8 - head.length - rest.length;
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...rest];
}

function classifyIpv6(groups: readonly number[]): RefusedAddressKind | undefined {
  const [first = 0, second = 0, , , , sixth = 0, seventh = 0, eighth = 0] = groups;
  const zeroUpTo = (count: number): boolean => groups.slice(0, count).every((group) => group === 0);
  const embeddedIpv4 = seventh * 65536 + eighth;
  if (zeroUpTo(8)) return 'unspecified';
  if (zeroUpTo(7) && eighth === 1) return 'loopback';
  // IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible (::a.b.c.d) forms reach IPv4 hosts.
  if (zeroUpTo(5) && sixth === 0xffff) return classifyIpv4(embeddedIpv4);
  if (zeroUpTo(6)) return classifyIpv4(embeddedIpv4) ?? 'reserved';
  // NAT64 (64:ff9b::/96) translates to the embedded IPv4 address.
  if (first === 0x64 && second === 0xff9b && groups.slice(2, 6).every((group) => group === 0)) return classifyIpv4(embeddedIpv4);
  if ((first & 0xfe00) === 0xfc00) return 'uniqueLocal'; // fc00::/7
  if ((first & 0xffc0) === 0xfe80) return 'linkLocal'; // fe80::/10
  if ((first & 0xffc0) === 0xfec0) return 'uniqueLocal'; // fec0::/10, the deprecated site-local
  if ((first & 0xff00) === 0xff00) return 'multicast'; // ff00::/8
  return undefined;
}

/**
 * Why a download must not connect to this IP address (loopback, private, link-local, …), or undefined when it
 * is a public unicast address. Anything that is not an IP address at all is refused as 'reserved'.
 */
export function refusedAddressKind(address: string): RefusedAddressKind | undefined {
  const ipv4 = parseIpv4(address);
  if (ipv4 !== undefined) return classifyIpv4(ipv4);
  const ipv6 = parseIpv6(address);
  if (ipv6 !== undefined) return classifyIpv6(ipv6);
  return 'reserved';
}

/** Whether a URL's host is an IP address written out (net.connect never asks DNS about those). */
export function isIpLiteral(hostname: string): boolean {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) !== 0;
}

/** Names that resolve to the local machine by definition (RFC 6761), whatever DNS or a proxy would say. */
export function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/**
 * Whether a host is refused by its name alone, before any lookup: a localhost name, or an IP literal of a
 * refused address. Every hop is checked with this before it is requested (through a proxy the connection's
 * own check never sees the address) and again by the download dispatcher when it connects.
 */
export function refusedHostLiteral(hostname: string): boolean {
  return isLocalhostName(hostname) || (isIpLiteral(hostname) && refusedAddressKind(hostname) !== undefined);
}
