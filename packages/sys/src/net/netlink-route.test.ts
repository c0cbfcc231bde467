// RtNetlink: its requests as bytes (a recording transport), then the real kernel in a network namespace
// the test makes with `ip netns add` and removes again.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import * as c from '../abi/constants.js';
import { close, open } from '../syscalls/files.js';
import { setns } from '../syscalls/namespaces.js';
import * as nl from './netlink-abi.js';
import { decodeAttrs, decodeMessages, encodeRequest, type Message, type Request } from './netlink-message.js';
import { RtNetlink } from './netlink-route.js';
import { NetlinkError, type NetlinkTransport } from './netlink-socket.js';

class Recorder implements NetlinkTransport {
  readonly sent: Array<{ request: Omit<Request, 'seq'>; what: string }> = [];
  constructor(private readonly replies: Message[][] = []) {}
  call(request: Omit<Request, 'seq'>, what: string): Message[] {
    this.sent.push({ request, what });
    return this.replies.shift() ?? [];
  }
  close(): void {}
}

describe('netlink messages', () => {
  it('encodes a veth pair as nested, aligned attributes', () => {
    const rec = new Recorder();
    new RtNetlink(rec).createVeth('vetha', 'vethb', { peerNetnsFd: 7 });
    const { request, what } = rec.sent[0]!;
    expect(what).toBe('RTM_NEWLINK veth "vetha"');
    const bytes = encodeRequest({ ...request, seq: 9 });
    const [message] = decodeMessages(bytes);
    expect(message).toMatchObject({ type: nl.RTM_NEWLINK, flags: nl.NLM_F_CREATE | nl.NLM_F_EXCL, seq: 9 });
    expect(bytes.length % 4).toBe(0);
    const attrs = decodeAttrs(message!.data, nl.ifinfomsg.size);
    expect(attrs.get(nl.IFLA_IFNAME)!.toString()).toBe('vetha\0');
    const info = decodeAttrs(attrs.get(nl.IFLA_LINKINFO)!);
    expect(info.get(nl.IFLA_INFO_KIND)!.toString()).toBe('veth\0');
    const peer = decodeAttrs(decodeAttrs(info.get(nl.IFLA_INFO_DATA)!).get(nl.VETH_INFO_PEER)!, nl.ifinfomsg.size);
    expect(peer.get(nl.IFLA_IFNAME)!.toString()).toBe('vethb\0');
    expect(peer.get(nl.IFLA_NET_NS_FD)!.readUInt32LE(0)).toBe(7);
  });

  it('names the request and the link in errors, and refuses a malformed reply', () => {
    const rt = new RtNetlink(new Recorder([[]]));
    expect(() => rt.setUp('nope0')).toThrow('RTM_NEWLINK "nope0" up: ENODEV (No such device): no link named "nope0"');
    const truncated = encodeRequest({ type: nl.RTM_NEWLINK, flags: 0, seq: 1, header: Buffer.alloc(16) });
    truncated.writeUInt32LE(999, 0);
    expect(() => decodeMessages(truncated)).toThrow(/overruns/);
  });
});

/** Runs `fn` with a netlink socket inside a fresh named network namespace. */
function inNetns(fn: (rt: RtNetlink, name: string) => void): void {
  const name = `isola-nltest-${process.pid}`;
  execFileSync('ip', ['netns', 'add', name]);
  const self = open('/proc/thread-self/ns/net', c.O_RDONLY);
  const target = open(`/run/netns/${name}`, c.O_RDONLY);
  let rt: RtNetlink | undefined;
  try {
    setns(target, c.CLONE_NEWNET);
    try {
      rt = RtNetlink.open();
    } finally {
      setns(self, c.CLONE_NEWNET);
    }
    fn(rt, name);
  } finally {
    rt?.close();
    close(self);
    close(target);
    execFileSync('ip', ['netns', 'del', name]);
  }
}

describe('RtNetlink against the kernel', () => {
  itNeeds({ root: true, tools: ['ip'] })('builds a bridge with a veth port, an address and routes, then removes them', () => {
    inNetns((rt, ns) => {
      rt.setUp('lo');
      rt.createBridge('isolatest0', { mac: '02:42:0a:00:00:01' });
      rt.addAddress('isolatest0', '10.99.0.1', 16);
      rt.setUp('isolatest0');
      rt.createVeth('vethtest0', 'vethtest1');
      rt.setMaster('vethtest0', 'isolatest0');
      rt.setUp('vethtest0');
      rt.rename('vethtest1', 'eth7');
      rt.setMac('eth7', '02:42:0a:63:00:02');
      rt.addRoute({ destination: '10.98.0.0', prefix: 16, gateway: '10.99.0.9' });
      const links = rt.links();
      const bridge = links.find((l) => l.name === 'isolatest0')!;
      expect(bridge).toMatchObject({ kind: 'bridge', up: true, mac: '02:42:0a:00:00:01' });
      expect(links.find((l) => l.name === 'vethtest0')).toMatchObject({ kind: 'veth', master: bridge.index, up: true });
      expect(links.find((l) => l.name === 'eth7')).toMatchObject({ kind: 'veth', mac: '02:42:0a:63:00:02' });
      expect(rt.addresses()).toContainEqual({ index: bridge.index, address: '10.99.0.1', prefix: 16 });
      expect(rt.routes()).toContainEqual(expect.objectContaining({ destination: '10.98.0.0', prefix: 16, gateway: '10.99.0.9' }));
      expect(execFileSync('ip', ['-n', ns, '-4', 'route'], { encoding: 'utf8' })).toContain('10.98.0.0/16 via 10.99.0.9 dev isolatest0');

      expect(() => rt.createBridge('isolatest0')).toThrow('RTM_NEWLINK bridge "isolatest0": EEXIST (File exists)');
      expect(() => rt.addAddress('isolatest0', '10.99.0.1', 16)).toThrow(NetlinkError);

      rt.deleteRoute({ destination: '10.98.0.0', prefix: 16, gateway: '10.99.0.9' });
      rt.deleteAddress('isolatest0', '10.99.0.1', 16);
      rt.deleteLink('vethtest0');
      rt.deleteLink('isolatest0');
      expect(rt.links().map((l) => l.name)).toEqual(['lo']);
      expect(rt.routes().filter((r) => r.destination !== '127.0.0.0')).toEqual([]);
    });
  });

  itNeeds({ root: true, tools: ['ip'] })('moves a veth end into another namespace by fd', () => {
    inNetns((rt, outer) => {
      const inner = `${outer}-in`;
      execFileSync('ip', ['netns', 'add', inner]);
      const fd = open(`/run/netns/${inner}`, c.O_RDONLY);
      try {
        rt.createVeth('vethout', 'vethin');
        rt.moveToNetns('vethin', fd);
        expect(rt.link('vethin')).toBeUndefined();
        expect(execFileSync('ip', ['-n', inner, '-br', 'link'], { encoding: 'utf8' })).toMatch(/^vethin@/m);
        rt.createVeth('vethout2', 'eth0', { peerNetnsFd: fd });
        expect(execFileSync('ip', ['-n', inner, '-br', 'link'], { encoding: 'utf8' })).toMatch(/^eth0@/m);
      } finally {
        close(fd);
        execFileSync('ip', ['netns', 'del', inner]);
      }
    });
  });
});
