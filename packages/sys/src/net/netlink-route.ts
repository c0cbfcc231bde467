// rtnetlink, typed: links (bridges, veth pairs), IPv4 addresses and routes of one network namespace,
// the one the socket was opened in. One method per request, like `ip link|addr|route`; errors name the
// request and the object: `RTM_NEWLINK veth "veth1a2b": EEXIST (File exists)`.
import * as nl from './netlink-abi.js';
import { constants } from 'node:os';
import { type Attr, attr, attrString, decodeAttrs, encodeRequest, ipv4String, macBytes, macString } from './netlink-message.js';
import { NetlinkError, NetlinkSocket, type NetlinkTransport } from './netlink-socket.js';

export interface Link {
  index: number;
  name: string;
  flags: number;
  up: boolean;
  mtu?: number;
  mac?: string;
  /** The bridge this link is a port of. */
  master?: number;
  /** "bridge", "veth"...; absent for physical and loopback devices. */
  kind?: string;
}

export interface Address {
  index: number;
  address: string;
  prefix: number;
}

export interface Route {
  /** The destination network; "0.0.0.0" with prefix 0 is the default route. */
  destination: string;
  prefix: number;
  gateway?: string;
  oif?: number;
  table: number;
  protocol: number;
  scope: number;
}

export interface RouteSpec {
  destination?: string;
  prefix?: number;
  gateway?: string;
  /** The outgoing link, by name or index. */
  device?: string | number;
  source?: string;
}

/** A link by name or by index. */
export type LinkRef = string | number;

const q = (name: LinkRef): string => (typeof name === 'string' ? JSON.stringify(name) : `#${name}`);

function ifinfomsg(index = 0, flags = 0, change = 0): Buffer {
  const b = Buffer.alloc(nl.ifinfomsg.size);
  b.writeUInt8(0, nl.ifinfomsg.ifi_family); // AF_UNSPEC
  b.writeInt32LE(index, nl.ifinfomsg.ifi_index);
  b.writeUInt32LE(flags, nl.ifinfomsg.ifi_flags);
  b.writeUInt32LE(change, nl.ifinfomsg.ifi_change);
  return b;
}

function ifaddrmsg(index: number, prefix: number, scope = nl.RT_SCOPE_UNIVERSE): Buffer {
  const b = Buffer.alloc(nl.ifaddrmsg.size);
  b.writeUInt8(2, nl.ifaddrmsg.ifa_family); // AF_INET
  b.writeUInt8(prefix, nl.ifaddrmsg.ifa_prefixlen);
  b.writeUInt8(scope, nl.ifaddrmsg.ifa_scope);
  b.writeUInt32LE(index, nl.ifaddrmsg.ifa_index);
  return b;
}

function rtmsg(prefix: number, scope: number, protocol = nl.RTPROT_BOOT): Buffer {
  const b = Buffer.alloc(nl.rtmsg.size);
  b.writeUInt8(2, nl.rtmsg.rtm_family); // AF_INET
  b.writeUInt8(prefix, nl.rtmsg.rtm_dst_len);
  b.writeUInt8(nl.RT_TABLE_MAIN, nl.rtmsg.rtm_table);
  b.writeUInt8(protocol, nl.rtmsg.rtm_protocol);
  b.writeUInt8(scope, nl.rtmsg.rtm_scope);
  b.writeUInt8(nl.RTN_UNICAST, nl.rtmsg.rtm_type);
  return b;
}

export class RtNetlink {
  constructor(private readonly transport: NetlinkTransport) {}

  /** A socket in the calling thread's network namespace. */
  static open(): RtNetlink {
    return new RtNetlink(NetlinkSocket.open(nl.NETLINK_ROUTE));
  }

  close(): void {
    this.transport.close();
  }

  links(): Link[] {
    return this.transport.call({ type: nl.RTM_GETLINK, flags: nl.NLM_F_DUMP, header: ifinfomsg() }, 'RTM_GETLINK dump').map((m) => {
      const attrs = decodeAttrs(m.data, nl.ifinfomsg.size);
      const info = attrs.get(nl.IFLA_LINKINFO);
      const flags = m.data.readUInt32LE(nl.ifinfomsg.ifi_flags);
      const link: Link = { index: m.data.readInt32LE(nl.ifinfomsg.ifi_index), name: attrString(attrs.get(nl.IFLA_IFNAME)) ?? '', flags, up: (flags & nl.IFF_UP) !== 0 };
      const mtu = attrs.get(nl.IFLA_MTU);
      if (mtu) link.mtu = mtu.readUInt32LE(0);
      const mac = attrs.get(nl.IFLA_ADDRESS);
      if (mac?.length === 6) link.mac = macString(mac);
      const master = attrs.get(nl.IFLA_MASTER);
      if (master) link.master = master.readUInt32LE(0);
      const kind = info && attrString(decodeAttrs(info).get(nl.IFLA_INFO_KIND));
      if (kind) link.kind = kind;
      return link;
    });
  }

  link(name: LinkRef): Link | undefined {
    return this.links().find((l) => (typeof name === 'string' ? l.name === name : l.index === name));
  }

  private newLink(kind: string, name: string, attrs: Attr[], info: Attr[] = []): void {
    this.transport.call(
      {
        type: nl.RTM_NEWLINK,
        flags: nl.NLM_F_CREATE | nl.NLM_F_EXCL,
        header: ifinfomsg(),
        attrs: [attr.str(nl.IFLA_IFNAME, name), ...attrs, attr.nest(nl.IFLA_LINKINFO, [attr.str(nl.IFLA_INFO_KIND, kind), ...info])],
      },
      `RTM_NEWLINK ${kind} ${q(name)}`,
    );
  }

  createBridge(name: string, options: { mac?: string } = {}): void {
    this.newLink('bridge', name, options.mac ? [attr.bytes(nl.IFLA_ADDRESS, macBytes(options.mac))] : []);
  }

  /** A veth pair `name` <-> `peer`; with `peerNetnsFd` the peer is created in that namespace directly. */
  createVeth(name: string, peer: string, options: { peerNetnsFd?: number; peerMac?: string } = {}): void {
    const peerAttrs: Attr[] = [attr.str(nl.IFLA_IFNAME, peer)];
    if (options.peerNetnsFd !== undefined) peerAttrs.push(attr.u32(nl.IFLA_NET_NS_FD, options.peerNetnsFd));
    if (options.peerMac) peerAttrs.push(attr.bytes(nl.IFLA_ADDRESS, macBytes(options.peerMac)));
    // VETH_INFO_PEER holds a struct ifinfomsg followed by the peer's attributes.
    const peerInfo: Attr = { type: nl.VETH_INFO_PEER, value: Buffer.concat([ifinfomsg(), attrBytes(peerAttrs)]) };
    this.newLink('veth', name, [], [attr.nest(nl.IFLA_INFO_DATA, [peerInfo])]);
  }

  private setLink(name: LinkRef, what: string, attrs: Attr[], flags = 0, change = 0): void {
    const index = this.resolve(name, `RTM_NEWLINK ${q(name)} ${what}`);
    this.transport.call({ type: nl.RTM_NEWLINK, flags: 0, header: ifinfomsg(index, flags, change), attrs }, `RTM_NEWLINK ${q(name)} ${what}`);
  }

  /** Moves a link into the network namespace behind `netnsFd` (an open /run/netns/NAME or /proc/PID/ns/net). */
  moveToNetns(name: LinkRef, netnsFd: number): void {
    this.setLink(name, 'netns', [attr.u32(nl.IFLA_NET_NS_FD, netnsFd)]);
  }

  rename(name: LinkRef, newName: string): void {
    this.setLink(name, `name ${JSON.stringify(newName)}`, [attr.str(nl.IFLA_IFNAME, newName)]);
  }

  setUp(name: LinkRef, up = true): void {
    this.setLink(name, up ? 'up' : 'down', [], up ? nl.IFF_UP : 0, nl.IFF_UP);
  }

  setMac(name: LinkRef, mac: string): void {
    this.setLink(name, `address ${mac}`, [attr.bytes(nl.IFLA_ADDRESS, macBytes(mac))]);
  }

  /** Makes `name` a port of the bridge `master` (0 or undefined: no bridge). */
  setMaster(name: LinkRef, master: LinkRef | undefined): void {
    const index = master === undefined ? 0 : this.resolve(master, `RTM_NEWLINK ${q(name)} master ${q(master)}`);
    this.setLink(name, `master ${master === undefined ? 'none' : q(master)}`, [attr.u32(nl.IFLA_MASTER, index)]);
  }

  deleteLink(name: LinkRef): void {
    const index = this.resolve(name, `RTM_DELLINK ${q(name)}`);
    this.transport.call({ type: nl.RTM_DELLINK, flags: 0, header: ifinfomsg(index) }, `RTM_DELLINK ${q(name)}`);
  }

  addresses(): Address[] {
    const header = Buffer.alloc(nl.ifaddrmsg.size);
    header.writeUInt8(2, nl.ifaddrmsg.ifa_family);
    return this.transport.call({ type: nl.RTM_GETADDR, flags: nl.NLM_F_DUMP, header }, 'RTM_GETADDR dump').flatMap((m) => {
      if (m.data.readUInt8(nl.ifaddrmsg.ifa_family) !== 2) return [];
      const attrs = decodeAttrs(m.data, nl.ifaddrmsg.size);
      const local = attrs.get(nl.IFA_LOCAL) ?? attrs.get(nl.IFA_ADDRESS);
      if (!local) return [];
      return [{ index: m.data.readUInt32LE(nl.ifaddrmsg.ifa_index), address: ipv4String(local), prefix: m.data.readUInt8(nl.ifaddrmsg.ifa_prefixlen) }];
    });
  }

  addAddress(name: LinkRef, address: string, prefix: number): void {
    const what = `RTM_NEWADDR ${address}/${prefix} dev ${q(name)}`;
    const index = this.resolve(name, what);
    const attrs = [attr.ipv4(nl.IFA_LOCAL, address), attr.ipv4(nl.IFA_ADDRESS, address)];
    this.transport.call({ type: nl.RTM_NEWADDR, flags: nl.NLM_F_CREATE | nl.NLM_F_EXCL, header: ifaddrmsg(index, prefix), attrs }, what);
  }

  deleteAddress(name: LinkRef, address: string, prefix: number): void {
    const what = `RTM_DELADDR ${address}/${prefix} dev ${q(name)}`;
    const index = this.resolve(name, what);
    this.transport.call({ type: nl.RTM_DELADDR, flags: 0, header: ifaddrmsg(index, prefix), attrs: [attr.ipv4(nl.IFA_LOCAL, address)] }, what);
  }

  /** IPv4 routes of the main table. */
  routes(): Route[] {
    const header = Buffer.alloc(nl.rtmsg.size);
    header.writeUInt8(2, nl.rtmsg.rtm_family);
    return this.transport.call({ type: nl.RTM_GETROUTE, flags: nl.NLM_F_DUMP, header }, 'RTM_GETROUTE dump').flatMap((m) => {
      const attrs = decodeAttrs(m.data, nl.rtmsg.size);
      const tableAttr = attrs.get(nl.RTA_TABLE);
      const table = tableAttr ? tableAttr.readUInt32LE(0) : m.data.readUInt8(nl.rtmsg.rtm_table);
      if (m.data.readUInt8(nl.rtmsg.rtm_family) !== 2 || table !== nl.RT_TABLE_MAIN) return [];
      const route: Route = {
        destination: attrs.has(nl.RTA_DST) ? ipv4String(attrs.get(nl.RTA_DST)!) : '0.0.0.0',
        prefix: m.data.readUInt8(nl.rtmsg.rtm_dst_len),
        table,
        protocol: m.data.readUInt8(nl.rtmsg.rtm_protocol),
        scope: m.data.readUInt8(nl.rtmsg.rtm_scope),
      };
      const gateway = attrs.get(nl.RTA_GATEWAY);
      if (gateway) route.gateway = ipv4String(gateway);
      const oif = attrs.get(nl.RTA_OIF);
      if (oif) route.oif = oif.readUInt32LE(0);
      return [route];
    });
  }

  addRoute(spec: RouteSpec): void {
    this.routeRequest(nl.RTM_NEWROUTE, nl.NLM_F_CREATE | nl.NLM_F_EXCL, spec);
  }

  deleteRoute(spec: RouteSpec): void {
    this.routeRequest(nl.RTM_DELROUTE, 0, spec);
  }

  private routeRequest(type: number, flags: number, spec: RouteSpec): void {
    const destination = spec.destination ?? '0.0.0.0';
    const prefix = spec.prefix ?? 0;
    let what = `${nl.MESSAGE_NAMES[type]} ${prefix === 0 ? 'default' : `${destination}/${prefix}`}`;
    if (spec.gateway) what += ` via ${spec.gateway}`;
    if (spec.device !== undefined) what += ` dev ${q(spec.device)}`;
    const attrs: Attr[] = [];
    if (prefix > 0) attrs.push(attr.ipv4(nl.RTA_DST, destination));
    if (spec.gateway) attrs.push(attr.ipv4(nl.RTA_GATEWAY, spec.gateway));
    if (spec.device !== undefined) attrs.push(attr.u32(nl.RTA_OIF, this.resolve(spec.device, what)));
    if (spec.source) attrs.push(attr.ipv4(nl.RTA_PREFSRC, spec.source));
    // A route without a gateway reaches its destination directly on the link.
    const scope = spec.gateway ? nl.RT_SCOPE_UNIVERSE : nl.RT_SCOPE_LINK;
    this.transport.call({ type, flags, header: rtmsg(prefix, scope), attrs }, what);
  }

  /** A link's index; a name that is not there fails like the kernel would, naming the request. */
  private resolve(name: LinkRef, what: string): number {
    if (typeof name === 'number') return name;
    const link = this.link(name);
    if (!link) throw new NetlinkError(what, constants.errno.ENODEV, `no link named ${JSON.stringify(name)}`);
    return link.index;
  }
}

function attrBytes(attrs: Attr[]): Buffer {
  // Encode the attributes alone by encoding a request with an empty header, then dropping nlmsghdr.
  return encodeRequest({ type: 0, flags: 0, seq: 0, header: Buffer.alloc(0), attrs }).subarray(nl.nlmsghdr.size);
}
