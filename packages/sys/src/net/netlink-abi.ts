// rtnetlink's numbers and struct layouts (x86-64), named as in <linux/netlink.h>, <linux/rtnetlink.h>,
// <linux/if_link.h>, <linux/if_addr.h> and <linux/veth.h>; netlink-abi.test.ts checks each against them.
import type { Layout } from '../abi/structs.js';

export const NETLINK_ROUTE = 0;
export const NETLINK_CAP_ACK = 10;
export const NETLINK_EXT_ACK = 11;

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;
export const NLMSGERR_ATTR_MSG = 1;

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_SETLINK = 19;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;

export const IFLA_ADDRESS = 1;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
export const IFLA_MASTER = 10;
export const IFLA_LINKINFO = 18;
export const IFLA_NET_NS_FD = 28;
export const IFLA_INFO_KIND = 1;
export const IFLA_INFO_DATA = 2;
export const VETH_INFO_PEER = 1;

export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;

export const RTA_DST = 1;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_PREFSRC = 7;
export const RTA_TABLE = 15;

export const RT_TABLE_MAIN = 254;
export const RTPROT_KERNEL = 2;
export const RTPROT_BOOT = 3;
export const RTPROT_STATIC = 4;
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;
export const RTN_UNICAST = 1;

export const IFF_UP = 0x1;
export const IFF_LOOPBACK = 0x8;

export const nlmsghdr = { size: 16, nlmsg_len: 0, nlmsg_type: 4, nlmsg_flags: 6, nlmsg_seq: 8, nlmsg_pid: 12 } as const satisfies Layout;
export const nlmsgerr = { size: 20, error: 0, msg: 4 } as const satisfies Layout;
export const rtattr = { size: 4, rta_len: 0, rta_type: 2 } as const satisfies Layout;
export const ifinfomsg = { size: 16, ifi_family: 0, ifi_type: 2, ifi_index: 4, ifi_flags: 8, ifi_change: 12 } as const satisfies Layout;
export const ifaddrmsg = { size: 8, ifa_family: 0, ifa_prefixlen: 1, ifa_flags: 2, ifa_scope: 3, ifa_index: 4 } as const satisfies Layout;
export const rtmsg = {
  size: 12, rtm_family: 0, rtm_dst_len: 1, rtm_src_len: 2, rtm_tos: 3, rtm_table: 4, rtm_protocol: 5, rtm_scope: 6, rtm_type: 7, rtm_flags: 8,
} as const satisfies Layout;

/** Message types by number, for error messages ("RTM_NEWLINK veth ..."). */
export const MESSAGE_NAMES: Record<number, string> = {
  [RTM_NEWLINK]: 'RTM_NEWLINK', [RTM_DELLINK]: 'RTM_DELLINK', [RTM_GETLINK]: 'RTM_GETLINK', [RTM_SETLINK]: 'RTM_SETLINK',
  [RTM_NEWADDR]: 'RTM_NEWADDR', [RTM_DELADDR]: 'RTM_DELADDR', [RTM_GETADDR]: 'RTM_GETADDR',
  [RTM_NEWROUTE]: 'RTM_NEWROUTE', [RTM_DELROUTE]: 'RTM_DELROUTE', [RTM_GETROUTE]: 'RTM_GETROUTE',
};
