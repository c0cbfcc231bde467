import { describe, expect, it } from 'vitest';
import { formatPortMapping, parsePortMapping } from './parse.js';

describe('-p parsing', () => {
  it('accepts docker forms', () => {
    expect(parsePortMapping('8080:80')).toEqual({ hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' });
    expect(parsePortMapping('127.0.0.1:8081:80/udp')).toEqual({ hostIp: '127.0.0.1', hostPort: 8081, containerPort: 80, protocol: 'udp' });
    expect(parsePortMapping('80')).toEqual({ hostIp: '0.0.0.0', hostPort: 0, containerPort: 80, protocol: 'tcp' });
    expect(parsePortMapping('127.0.0.1::53/UDP')).toEqual({ hostIp: '127.0.0.1', hostPort: 0, containerPort: 53, protocol: 'udp' });
    expect(formatPortMapping(parsePortMapping('8080:80'))).toBe('0.0.0.0:8080->80/tcp');
  });

  it.each([
    ['', 'invalid port mapping "": it is empty'],
    ['8080:abc', 'invalid port mapping "8080:abc": container port "abc" is not a number between 1 and 65535'],
    ['0:80', 'invalid port mapping "0:80": host port "0" is not a number between 1 and 65535'],
    ['70000:80', 'host port "70000" is not a number'],
    ['8080:80/sctp', 'protocol "sctp" is not tcp or udp'],
    ['1.2.3:8080:80', 'host IP "1.2.3" is not an IPv4 address'],
    ['[::1]:8080:80', 'IPv6 host addresses are not supported'],
    ['8000-8010:80', 'port ranges (host port "8000-8010") are not supported'],
    ['1:2:3:4', 'expected [ip:][hostPort:]containerPort'],
    ['8080:80; nft flush ruleset', 'container port "80; nft flush ruleset"'],
    ['$(reboot):80', 'host port "$(reboot)"'],
  ])('refuses %j', (spec, message) => {
    expect(() => parsePortMapping(spec)).toThrow(message);
  });
});
