/**
 * IPv4 addresses as unsigned 32-bit numbers: parse, format, CIDR blocks and `first-last` ranges.
 * Parsers are strict (four decimal octets 0-255, no leading zeros) and return undefined on bad text.
 */

export interface Ipv4Range {
  first: number;
  last: number;
}

export interface Cidr {
  /** The address as written before the slash (may have host bits set). */
  address: number;
  prefix: number;
  /** The address with the host bits cleared. */
  network: number;
  /** The broadcast address (last address of the block). */
  broadcast: number;
}

const OCTET = /^(0|[1-9]\d{0,2})$/;

export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = parseIpv4(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (address === undefined || !/^(0|[1-9]\d?)$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  const network = address - (address % size);
  return { address, prefix, network, broadcast: network + size - 1 };
}

export function formatCidr(cidr: Pick<Cidr, 'network' | 'prefix'>): string {
  return `${formatIpv4(cidr.network)}/${cidr.prefix}`;
}

/** Every address of the block, network and broadcast included. */
export function cidrRange(cidr: Cidr): Ipv4Range {
  return { first: cidr.network, last: cidr.broadcast };
}

/**
 * The addresses a host may use: without the network and broadcast addresses, except for /31 and /32
 * (RFC 3021 point-to-point links and single hosts), which have none to spare.
 */
export function usableRange(cidr: Cidr): Ipv4Range {
  if (cidr.prefix >= 31) return cidrRange(cidr);
  return { first: cidr.network + 1, last: cidr.broadcast - 1 };
}

export function cidrContains(cidr: Cidr, address: number): boolean {
  return address >= cidr.network && address <= cidr.broadcast;
}

/** `first-last`, both IPv4, first not after last. */
export function parseRange(text: string): Ipv4Range | undefined {
  const parts = text.split('-');
  if (parts.length !== 2) return undefined;
  const first = parseIpv4((parts[0] as string).trim());
  const last = parseIpv4((parts[1] as string).trim());
  if (first === undefined || last === undefined || first > last) return undefined;
  return { first, last };
}

export function formatRange(range: Ipv4Range): string {
  return range.first === range.last
    ? formatIpv4(range.first)
    : `${formatIpv4(range.first)}-${formatIpv4(range.last)}`;
}

export function rangeSize(range: Ipv4Range): number {
  return range.last - range.first + 1;
}

export function rangeContains(range: Ipv4Range, address: number): boolean {
  return address >= range.first && address <= range.last;
}

/** True when every address of `inner` is in `outer`. */
export function rangeWithin(inner: Ipv4Range, outer: Ipv4Range): boolean {
  return inner.first >= outer.first && inner.last <= outer.last;
}

/** The addresses both ranges share, or undefined when they share none. */
export function rangeOverlap(a: Ipv4Range, b: Ipv4Range): Ipv4Range | undefined {
  const first = Math.max(a.first, b.first);
  const last = Math.min(a.last, b.last);
  return first <= last ? { first, last } : undefined;
}
