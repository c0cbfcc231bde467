import { describe, expect, it } from 'vitest';
import { allocateAddress } from './ipam.js';
import { formatIpv4, formatSubnet, macFor, overlaps, parseIpv4, parseSubnet } from './ipv4.js';
import { pickSubnet } from './subnet-pool.js';

describe('IPv4 addresses and subnets', () => {
  it('parses and formats, refusing what is not an address or a clean CIDR', () => {
    expect(formatIpv4(parseIpv4('10.1.2.3'))).toBe('10.1.2.3');
    expect(formatSubnet(parseSubnet('172.18.0.0/16'))).toBe('172.18.0.0/16');
    expect(() => parseIpv4('10.1.2')).toThrow('invalid IP address "10.1.2"');
    expect(() => parseIpv4('10.1.2.256')).toThrow(/invalid IP address/);
    expect(() => parseSubnet('10.1.0.5/16')).toThrow('host bits are set (did you mean 10.1.0.0/16?)');
    expect(() => parseSubnet('10.1.0.0/31')).toThrow(/between 8 and 30/);
    expect(() => parseSubnet('10.1.0.0')).toThrow(/CIDR notation/);
    expect(() => parseSubnet('../../etc/16')).toThrow(/invalid/);
    expect(overlaps(parseSubnet('10.0.0.0/8'), parseSubnet('10.5.0.0/16'))).toBe(true);
    expect(overlaps(parseSubnet('10.1.0.0/16'), parseSubnet('10.2.0.0/16'))).toBe(false);
    expect(macFor(parseIpv4('172.17.0.2'))).toBe('02:42:ac:11:00:02');
  });

  it('allocates the lowest free host address after the gateway, and runs out cleanly', () => {
    const subnet = parseSubnet('10.9.0.0/29'); // hosts .1-.6
    const gw = parseIpv4('10.9.0.1');
    const taken: number[] = [];
    for (let i = 0; i < 5; i++) taken.push(allocateAddress(subnet, gw, taken));
    expect(taken.map(formatIpv4)).toEqual(['10.9.0.2', '10.9.0.3', '10.9.0.4', '10.9.0.5', '10.9.0.6']);
    expect(() => allocateAddress(subnet, gw, taken, undefined, 'network n')).toThrow('no free IP address left on network n (subnet 10.9.0.0/29, gateway 10.9.0.1)');
    expect(formatIpv4(allocateAddress(subnet, gw, taken.slice(1)))).toBe('10.9.0.2');
    expect(() => allocateAddress(subnet, gw, [], '10.9.0.1')).toThrow(/already in use/);
    expect(() => allocateAddress(subnet, gw, [], '10.9.0.7')).toThrow(/not a host address/);
    expect(formatIpv4(allocateAddress(subnet, gw, [], '10.9.0.5'))).toBe('10.9.0.5');
  });

  it("picks docker's default pools, skipping subnets the host already routes", () => {
    expect(formatSubnet(pickSubnet([]))).toBe('172.17.0.0/16');
    expect(formatSubnet(pickSubnet([parseSubnet('172.17.5.0/24'), parseSubnet('172.18.0.0/16')]))).toBe('172.19.0.0/16');
    expect(formatSubnet(pickSubnet([parseSubnet('172.16.0.0/12')]))).toBe('192.168.0.0/20');
    expect(() => pickSubnet([{ network: 0x80000000, prefix: 1 }])).toThrow(/give --subnet/);
  });
});
