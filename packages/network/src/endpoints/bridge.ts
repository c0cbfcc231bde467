// A network's bridge on the host: made with the gateway address when the first container connects,
// removed with its masquerade rules when the last one leaves or the network is removed. (The rules are
// added by connect, in the same nft run as the container's ports.)
import type { NetworkContext } from '../context.js';
import type { NetworkRecord } from '../store/store.js';

/** Creates the bridge if it is missing; returns whether it did (so a failed connect can undo it). */
export function ensureBridge(ctx: NetworkContext, network: NetworkRecord): boolean {
  const [, prefix] = network.subnet.split('/');
  const created = ctx.host.route((rt) => {
    let made = false;
    let bridge = rt.link(network.bridge);
    if (!bridge) {
      rt.createBridge(network.bridge);
      made = true;
      bridge = rt.link(network.bridge)!;
    }
    if (!rt.addresses().some((a) => a.index === bridge.index && a.address === network.gateway)) rt.addAddress(bridge.index, network.gateway, Number(prefix));
    if (!bridge.up) rt.setUp(bridge.index);
    return made;
  });
  try {
    ctx.host.sysctl('net.ipv4.ip_forward', '1');
    // Lets DNAT send 127.0.0.1 traffic out of the bridge (and its replies back), so -p works on localhost.
    ctx.host.sysctl(`net.ipv4.conf.${network.bridge}.route_localnet`, '1');
  } catch (error) {
    if (created) removeBridge(ctx, network, false);
    throw error;
  }
  return created;
}

/** Deletes the bridge, and its masquerade rules unless the caller removed them already. */
export function removeBridge(ctx: NetworkContext, network: NetworkRecord, rules = true): void {
  if (rules && ctx.firewall.available) ctx.firewall.removeNetwork(network.id);
  ctx.host.route((rt) => {
    if (rt.link(network.bridge)) rt.deleteLink(network.bridge);
  });
}
