import { describe, expect, it } from 'vitest';
import type { EndpointRecord, NetworkRecord } from '../store/store.js';
import { renderHosts, renderResolvConf } from './hosts.js';

const endpoint = (id: string, name: string, ip: string, extra: Partial<EndpointRecord> = {}): EndpointRecord => ({
  containerId: id, containerName: name, aliases: [], endpointId: 'e', ip, mac: '', hostVeth: '', netns: '', ports: [], ...extra,
});
const network = (name: string, isDefault: boolean, endpoints: EndpointRecord[]): NetworkRecord => ({
  name, id: name, created: '', driver: 'bridge', bridge: 'b', subnet: '10.0.0.0/24', gateway: '10.0.0.1', isDefault, labels: {},
  endpoints: Object.fromEntries(endpoints.map((e) => [e.containerId, e])),
});

describe('hosts and resolv.conf', () => {
  it('lists localhost, the container itself (by hostname only on the default bridge, as docker), and its peers on user-defined networks only', () => {
    const a = endpoint('a'.repeat(64), 'web', '10.0.0.2', { hostname: 'webhost', aliases: ['www'] });
    const b = endpoint('b'.repeat(64), 'db', '10.0.0.3');
    const text = renderHosts(a.containerId, [network('app', false, [a, b]), network('bridge', true, [{ ...a, ip: '172.17.0.2' }, endpoint('c'.repeat(64), 'other', '172.17.0.3')])]);
    expect(text).toBe(
      '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n' +
        '10.0.0.2\twebhost web www\n172.17.0.2\twebhost\n10.0.0.3\tdb bbbbbbbbbbbb\n',
    );
  });

  it('names a container without a hostname on the default bridge by its short id, as docker does', () => {
    const a = endpoint('a'.repeat(64), 'web', '172.17.0.2');
    expect(renderHosts(a.containerId, [network('bridge', true, [a])]).split('\n').at(-2)).toBe('172.17.0.2\taaaaaaaaaaaa');
  });

  it("drops the host's loopback nameservers, keeping the rest", () => {
    expect(renderResolvConf('# generated\nnameserver 127.0.0.53\nnameserver 10.255.255.53\nsearch example\noptions edns0\n')).toBe('# generated\nnameserver 10.255.255.53\nsearch example\noptions edns0\n');
    expect(renderResolvConf('nameserver 127.0.0.1\n')).toBe('');
    expect(renderResolvConf('')).toBe('');
  });
});
