// Runs the scripts of rules.ts through nft in the host namespace: one `nft -f -` per change, so a
// change applies whole or not at all.
import type { NetworkHost } from '../host/host.js';
import type { PortMapping } from './parse.js';
import { containerTag, deleteRulesScript, hasTable, networkRulesScript, networkTag, parseRules, portRulesScript, TABLE, tableScript } from './rules.js';

export class Firewall {
  constructor(private readonly host: NetworkHost) {}

  get available(): boolean {
    return this.host.nftPath() !== undefined;
  }

  private listing(): string {
    return this.host.nft(['-j', 'list', 'ruleset', 'ip']);
  }

  private apply(script: string): void {
    if (script.trim() !== '') this.host.nft(['-f', '-'], `${script}\n`);
  }

  /**
   * One `nft -f` for a container joining: its port rules, and the network's masquerade rules when its
   * bridge was just made (a crash may leave a duplicate of those: removal by tag takes every copy).
   */
  join(options: { network?: { id: string; subnet: string; bridge: string }; ports?: { networkId: string; containerId: string; containerIp: string; ports: readonly PortMapping[] } }): void {
    const parts: string[] = [];
    if (options.network) parts.push(networkRulesScript(options.network));
    if (options.ports && options.ports.ports.length > 0) parts.push(portRulesScript(options.ports.networkId, options.ports.containerId, options.ports.containerIp, options.ports.ports));
    if (parts.length > 0) this.apply([tableScript(), ...parts].join('\n'));
  }

  /** One listing and one `nft -f` for a container leaving: its rules, and the network's with the last container. */
  leave(networkId: string, containerId: string, lastOut: boolean): void {
    this.remove((comment) => comment === containerTag(networkId, containerId) || (lastOut && comment === networkTag(networkId)));
  }

  removeNetwork(networkId: string): void {
    this.remove((comment) => comment === networkTag(networkId));
  }

  /** Deletes the rules whose comment matches, and the table once no rule is left in it. */
  remove(owned: (comment: string) => boolean): void {
    const listing = this.listing();
    if (!hasTable(listing)) return;
    const rules = parseRules(listing);
    const doomed = rules.filter((r) => r.comment !== undefined && owned(r.comment));
    const script = [deleteRulesScript(doomed)];
    if (doomed.length === rules.length) script.push(`delete table ip ${TABLE}`);
    this.apply(script.filter((s) => s !== '').join('\n'));
  }
}
