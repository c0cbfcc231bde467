// The nftables rules behind published ports and masquerading, as nft script text (no I/O here).
// Everything lives in one table, `ip isola`, with docker's shape: DNAT in prerouting (traffic from
// outside) and output (from the host itself, 127.0.0.1 included, which needs route_localnet on the
// bridge), masquerade for containers going out and for 127.0.0.0/8 sources entering a bridge.
// Each rule carries a comment naming its owner, which is how it is found again and deleted.
import { formatPortMapping, type PortMapping } from './parse.js';

export const TABLE = 'isola';

export interface NftRule {
  chain: string;
  handle: number;
  comment?: string;
}

/** The owner tag of a network's own rules. */
export const networkTag = (networkId: string): string => `isola-network:${networkId.slice(0, 12)}`;
/** The owner tag of a container's port rules on one network. */
export const containerTag = (networkId: string, containerId: string): string => `isola-container:${networkId.slice(0, 12)}:${containerId}`;

/** Creates the table and its chains; `add` leaves existing ones alone, so this is idempotent. */
export function tableScript(): string {
  return [
    `add table ip ${TABLE}`,
    `add chain ip ${TABLE} prerouting { type nat hook prerouting priority dstnat; policy accept; }`,
    `add chain ip ${TABLE} output { type nat hook output priority -100; policy accept; }`,
    `add chain ip ${TABLE} postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
  ].join('\n');
}

export function networkRulesScript(network: { id: string; subnet: string; bridge: string }): string {
  const tag = JSON.stringify(networkTag(network.id));
  const bridge = JSON.stringify(network.bridge);
  return [
    `add rule ip ${TABLE} postrouting ip saddr ${network.subnet} oifname != ${bridge} masquerade comment ${tag}`,
    `add rule ip ${TABLE} postrouting ip saddr 127.0.0.0/8 oifname ${bridge} masquerade comment ${tag}`,
  ].join('\n');
}

export function portRulesScript(networkId: string, containerId: string, containerIp: string, ports: readonly PortMapping[]): string {
  const tag = JSON.stringify(containerTag(networkId, containerId));
  const lines: string[] = [];
  for (const p of ports) {
    const match = `${p.hostIp === '0.0.0.0' ? '' : `ip daddr ${p.hostIp} `}fib daddr type local ${p.protocol} dport ${p.hostPort}`;
    for (const chain of ['prerouting', 'output']) {
      lines.push(`add rule ip ${TABLE} ${chain} ${match} dnat to ${containerIp}:${p.containerPort} comment ${tag} # ${formatPortMapping(p)}`);
    }
  }
  return lines.join('\n');
}

/** The rules of table `isola` from `nft -j list ruleset ip`. */
export function parseRules(json: string): NftRule[] {
  if (json.trim() === '') return [];
  const doc = JSON.parse(json) as { nftables?: Array<{ rule?: { family: string; table: string; chain: string; handle: number; comment?: string } }> };
  return (doc.nftables ?? [])
    .map((item) => item.rule)
    .filter((r): r is NonNullable<typeof r> => r !== undefined && r.family === 'ip' && r.table === TABLE)
    .map((r) => (r.comment === undefined ? { chain: r.chain, handle: r.handle } : { chain: r.chain, handle: r.handle, comment: r.comment }));
}

export function hasTable(json: string): boolean {
  if (json.trim() === '') return false;
  const doc = JSON.parse(json) as { nftables?: Array<{ table?: { family: string; name: string } }> };
  return (doc.nftables ?? []).some((item) => item.table?.family === 'ip' && item.table.name === TABLE);
}

export function deleteRulesScript(rules: readonly NftRule[]): string {
  return rules.map((r) => `delete rule ip ${TABLE} ${r.chain} handle ${r.handle}`).join('\n');
}
