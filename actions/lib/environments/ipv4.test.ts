import { describe, expect, it } from 'vitest';
import {
  cidrContains,
  cidrRange,
  formatCidr,
  formatIpv4,
  formatRange,
  parseCidr,
  parseIpv4,
  parseRange,
  rangeContains,
  rangeOverlap,
  rangeSize,
  rangeWithin,
  usableRange,
} from './ipv4.js';

const ip = (text: string): number => {
  const value = parseIpv4(text);
  if (value === undefined) throw new Error(`bad test address ${text}`);
  return value;
};

describe('parseIpv4 / formatIpv4', () => {
  it.each([
    ['0.0.0.0', 0],
    ['192.168.1.101', 3_232_235_877],
    ['255.255.255.255', 4_294_967_295],
    ['10.0.0.1', 167_772_161],
  ])('parses %s', (text, value) => {
    expect(parseIpv4(text)).toBe(value);
    expect(formatIpv4(value)).toBe(text);
  });

  it.each([
    '',
    '192.168.1',
    '192.168.1.1.1',
    '192.168.1.256',
    '192.168.01.1',
    '192.168.1.-1',
    '192.168.1.1 ',
    '192.168.1.x',
    '1e2.0.0.1',
    '::1',
  ])('refuses %j', (text) => {
    expect(parseIpv4(text)).toBeUndefined();
  });
});

describe('CIDR', () => {
  it('parses a block and knows its bounds', () => {
    const cidr = parseCidr('192.168.1.0/24');
    expect(cidr).toEqual({
      address: ip('192.168.1.0'),
      prefix: 24,
      network: ip('192.168.1.0'),
      broadcast: ip('192.168.1.255'),
    });
    if (!cidr) return;
    expect(formatCidr(cidr)).toBe('192.168.1.0/24');
    expect(formatRange(cidrRange(cidr))).toBe('192.168.1.0-192.168.1.255');
    expect(formatRange(usableRange(cidr))).toBe('192.168.1.1-192.168.1.254');
    expect(cidrContains(cidr, ip('192.168.1.200'))).toBe(true);
    expect(cidrContains(cidr, ip('192.168.2.1'))).toBe(false);
  });

  it('keeps the written address apart from the network when host bits are set', () => {
    const cidr = parseCidr('192.168.1.77/24');
    expect(cidr?.address).toBe(ip('192.168.1.77'));
    expect(cidr && formatCidr(cidr)).toBe('192.168.1.0/24');
  });

  it('handles /0, /31 and /32', () => {
    expect(parseCidr('0.0.0.0/0')).toMatchObject({ network: 0, broadcast: 4_294_967_295 });
    const p2p = parseCidr('10.0.0.0/31');
    expect(p2p && formatRange(usableRange(p2p))).toBe('10.0.0.0-10.0.0.1');
    const single = parseCidr('10.0.0.7/32');
    expect(single && formatRange(usableRange(single))).toBe('10.0.0.7');
  });

  it('handles the top of the address space without sign trouble', () => {
    const cidr = parseCidr('255.255.255.0/24');
    expect(cidr && formatIpv4(cidr.broadcast)).toBe('255.255.255.255');
  });

  it.each(['192.168.1.0', '192.168.1.0/33', '192.168.1.0/', '192.168.1.0/024', '192.168.1/24', '/24'])(
    'refuses %j',
    (text) => {
      expect(parseCidr(text)).toBeUndefined();
    },
  );
});

describe('ranges', () => {
  it('parses first-last', () => {
    expect(parseRange('192.168.1.200-192.168.1.210')).toEqual({
      first: ip('192.168.1.200'),
      last: ip('192.168.1.210'),
    });
    expect(parseRange('192.168.1.5-192.168.1.5')).toEqual({
      first: ip('192.168.1.5'),
      last: ip('192.168.1.5'),
    });
  });

  it.each([
    '192.168.1.210-192.168.1.200',
    '192.168.1.200',
    '192.168.1.200-',
    '1.1.1.1-2.2.2.2-3.3.3.3',
    'a-b',
  ])('refuses %j', (text) => {
    expect(parseRange(text)).toBeUndefined();
  });

  it('measures, contains and nests', () => {
    const pool = { first: ip('192.168.1.200'), last: ip('192.168.1.210') };
    expect(rangeSize(pool)).toBe(11);
    expect(rangeContains(pool, ip('192.168.1.205'))).toBe(true);
    expect(rangeContains(pool, ip('192.168.1.211'))).toBe(false);
    expect(rangeWithin(pool, { first: ip('192.168.1.1'), last: ip('192.168.1.254') })).toBe(true);
    expect(rangeWithin(pool, { first: ip('192.168.1.201'), last: ip('192.168.1.254') })).toBe(false);
  });

  it('finds the shared part of overlapping ranges', () => {
    const publicPool = { first: ip('192.168.1.200'), last: ip('192.168.1.210') };
    const internalPool = { first: ip('192.168.1.201'), last: ip('192.168.1.205') };
    const overlap = rangeOverlap(publicPool, internalPool);
    expect(overlap && formatRange(overlap)).toBe('192.168.1.201-192.168.1.205');
    expect(rangeOverlap(internalPool, publicPool)).toEqual(overlap);
    const touching = rangeOverlap(publicPool, { first: ip('192.168.1.210'), last: ip('192.168.1.215') });
    expect(touching && formatRange(touching)).toBe('192.168.1.210');
    expect(
      rangeOverlap(publicPool, { first: ip('192.168.1.211'), last: ip('192.168.1.215') }),
    ).toBeUndefined();
  });
});
