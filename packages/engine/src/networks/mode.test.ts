import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planNetwork } from './mode.js';

// A network record as `network create` writes it: planNetwork only reads names, so no host is touched.
const root = mkdtempSync(join(tmpdir(), 'isola-mode-'));
mkdirSync(join(root, 'networks'));
const id = 'ab'.repeat(32);
writeFileSync(join(root, 'networks', 'backend.json'), JSON.stringify({ name: 'backend', id, created: '', driver: 'bridge', bridge: `br-${id.slice(0, 12)}`, subnet: '10.1.0.0/24', gateway: '10.1.0.1', isDefault: false, labels: {}, endpoints: {} }));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('planNetwork', () => {
  it('defaults to bridge, as docker, and reads -p, -P and aliases', () => {
    expect(planNetwork({}, root)).toEqual({ mode: 'bridge', ports: [] });
    expect(planNetwork({ network: 'default', publish: ['8080:80', '127.0.0.1::53/udp'] }, root)).toEqual({
      mode: 'bridge',
      ports: [
        { hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
        { hostIp: '127.0.0.1', hostPort: 0, containerPort: 53, protocol: 'udp' },
      ],
    });
    expect(planNetwork({ network: 'backend', publishAll: true, networkAlias: ['db'] }, root, { '5432/tcp': {}, '53/udp': {}, '80': {} })).toEqual({
      mode: 'backend',
      aliases: ['db'],
      ports: [
        { hostIp: '0.0.0.0', hostPort: 0, containerPort: 80, protocol: 'tcp' },
        { hostIp: '0.0.0.0', hostPort: 0, containerPort: 5432, protocol: 'tcp' },
        { hostIp: '0.0.0.0', hostPort: 0, containerPort: 53, protocol: 'udp' },
      ],
    });
    expect(planNetwork({ network: id.slice(0, 6) }, root).mode).toBe('backend');
    expect(planNetwork({ network: 'none' }, root)).toEqual({ mode: 'none', ports: [] });
    expect(planNetwork({ network: 'host' }, root)).toEqual({ mode: 'host', ports: [] });
  });

  it('refuses unknown networks, ports without a network and aliases off user networks, in one line', () => {
    const fails = (flags: Parameters<typeof planNetwork>[0]) => {
      try {
        planNetwork(flags, root);
      } catch (error) {
        return `${(error as { code: string }).code}: ${(error as Error).message}`;
      }
      return 'no error';
    };
    expect(fails({ network: 'nosuch' })).toBe('ENONETWORK: network nosuch not found');
    expect(fails({ network: '../../../etc/passwd' })).toBe('ENONETWORK: network ../../../etc/passwd not found');
    expect(fails({ network: 'host', publish: ['80'] })).toBe('EUSAGE: -p/--publish: ports cannot be published with --network host (only on bridge and user-defined networks)');
    expect(fails({ networkAlias: ['x'] })).toBe('EUSAGE: --network-alias: network-scoped aliases are only supported on user-defined networks (not bridge)');
    expect(fails({ network: 'container:abc' })).toMatch(/^EUNSUPPORTED: --network container:abc/);
    expect(fails({ publish: ['80:80:80:80'] })).toMatch(/^EINVAL: invalid port mapping "80:80:80:80"/);
  });
});
