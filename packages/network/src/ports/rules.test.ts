import { describe, expect, it } from 'vitest';
import { parsePortMapping } from './parse.js';
import { deleteRulesScript, parseRules, portRulesScript } from './rules.js';

describe('nft rules', () => {
  it('DNATs a published port in prerouting and output, tagged with the container', () => {
    const script = portRulesScript('n'.repeat(64), 'c1', '10.0.0.2', [parsePortMapping('127.0.0.1:8080:80'), parsePortMapping('53:53/udp')]);
    expect(script.split('\n')).toEqual([
      'add rule ip isola prerouting ip daddr 127.0.0.1 fib daddr type local tcp dport 8080 dnat to 10.0.0.2:80 comment "isola-container:nnnnnnnnnnnn:c1" # 127.0.0.1:8080->80/tcp',
      'add rule ip isola output ip daddr 127.0.0.1 fib daddr type local tcp dport 8080 dnat to 10.0.0.2:80 comment "isola-container:nnnnnnnnnnnn:c1" # 127.0.0.1:8080->80/tcp',
      'add rule ip isola prerouting fib daddr type local udp dport 53 dnat to 10.0.0.2:53 comment "isola-container:nnnnnnnnnnnn:c1" # 0.0.0.0:53->53/udp',
      'add rule ip isola output fib daddr type local udp dport 53 dnat to 10.0.0.2:53 comment "isola-container:nnnnnnnnnnnn:c1" # 0.0.0.0:53->53/udp',
    ]);
  });

  it('finds rules of table isola in `nft -j` output and deletes them by handle', () => {
    const json = JSON.stringify({
      nftables: [
        { metainfo: {} },
        { table: { family: 'ip', name: 'isola', handle: 1 } },
        { rule: { family: 'ip', table: 'isola', chain: 'output', handle: 7, comment: 'isola-container:x:c1', expr: [] } },
        { rule: { family: 'ip', table: 'other', chain: 'output', handle: 8, comment: 'isola-container:x:c1', expr: [] } },
      ],
    });
    const rules = parseRules(json);
    expect(rules).toEqual([{ chain: 'output', handle: 7, comment: 'isola-container:x:c1' }]);
    expect(deleteRulesScript(rules)).toBe('delete rule ip isola output handle 7');
  });
});
