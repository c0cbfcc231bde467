// What doctor adds to @isola/container's cgroup mount parsing (tested there): the one-line summary,
// and the probe of this host.
import { describe, expect, it } from 'vitest';
import { describeCgroups, probeCgroups } from './cgroups.js';

describe('cgroups probe', () => {
  it('summarises a hybrid layout on one line', () => {
    const text = describeCgroups({
      mode: 'hybrid',
      v1: [{ mountpoint: '/sys/fs/cgroup/cpu', controllers: ['cpu'] }, { mountpoint: '/sys/fs/cgroup/memory', controllers: ['memory'] }],
      v2: { mountpoint: '/sys/fs/cgroup/unified', controllers: ['hugetlb'] },
    });
    expect(text).toBe('hybrid; v1: cpu memory; v2 at /sys/fs/cgroup/unified: hugetlb');
  });

  it('probes this host', () => {
    const result = probeCgroups();
    expect(result.status).toBe('ok');
    expect(['v1', 'v2', 'hybrid']).toContain(result.details.mode);
  });
});
