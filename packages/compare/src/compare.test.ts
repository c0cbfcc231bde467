import { release } from 'node:os';
import { describe, expect, it } from 'vitest';
import { itNeeds } from '../../../test/support/requirements.js';
import { runCompare } from './compare.js';
import { formatCompare } from './report.js';
import { capabilityCount, parseLoopLine, parseNamespaceLinks } from './host/proc.js';
import { median, parseRounds } from './options.js';

describe('parsing', () => {
  it('takes --rounds from 1 to 100 and rejects the rest in one line', () => {
    expect(parseRounds(undefined)).toBe(5);
    expect(parseRounds('3')).toBe(3);
    for (const bad of ['0', 'x', '-1', '1.5', '101', '', '1e3', '3; rm -rf /']) {
      expect(() => parseRounds(bad)).toThrow(expect.objectContaining({ code: 'EUSAGE', message: expect.stringMatching(/^--rounds .*: must be a whole number from 1 to 100$/) }));
    }
  });

  it('reads loop lines, namespace links and capability masks', () => {
    expect(parseLoopLine('hello\nloop 10 tsc 123\n')).toEqual({ iterations: 10, tscCycles: 123 });
    expect(parseLoopLine('loop 10 tsc 123 ns 45\n')).toEqual({ iterations: 10, tscCycles: 123, ns: 45 });
    expect(parseLoopLine('loop x')).toBeUndefined();
    expect(parseNamespaceLinks('lrwxrwxrwx 1 0 0 0 net -> net:[4026531840]\nlrwx 1 0 0 0 uts -> uts:[12]\n')).toEqual({ net: 4026531840, uts: 12 });
    expect(capabilityCount('00000000a80425fb')).toBe(14);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});

describe('runCompare', () => {
  itNeeds({ root: true, kvm: true, tools: ['gcc', 'ld'] })(
    'measures a container and a microVM side by side with real, plausible values',
    async () => {
      const report = await runCompare({ rounds: 1, loopIterations: 200_000 });
      const { startup, memory, cpu, disk, isolation } = report;
      for (const s of [startup.container, startup.vm]) {
        expect(s.firstOutputMs).toBeGreaterThan(0);
        expect(s.exitMs).toBeGreaterThanOrEqual(s.firstOutputMs);
      }
      expect(isolation.vm.guestPrinted).toBe('hello');
      expect(isolation.vm.hostSyscalls).toBe('none');
      expect(isolation.vm.exits?.io).toBeGreaterThan(0);
      expect(isolation.container.kernel).toBe(release());
      expect(isolation.container.ownNamespaces).toEqual(expect.arrayContaining(['ipc', 'mnt', 'net', 'pid', 'uts']));
      expect(isolation.container.seccomp).toBe(true);
      expect(isolation.container.capabilities).toBe(14);
      expect(memory.container.monitor.rssKiB).toBeGreaterThan(0);
      expect(memory.container.monitor.rssKiB).toBeLessThan(memory.vm.vmm.rssKiB);
      expect(memory.container.workload.rssKiB).toBeGreaterThan(0);
      expect(memory.vm.vmm.pssKiB).toBeGreaterThan(0);
      expect(memory.vm.guestMemoryMiB).toBe(16);
      for (const c of [cpu.host, cpu.container, cpu.vm]) {
        expect(c.iterations).toBe(200_000);
        expect(c.tscCycles).toBeGreaterThan(0);
      }
      expect(cpu.host.ratioToHost).toBe(1);
      expect(cpu.tscMHz).toBeGreaterThan(100);
      expect(disk.containerImageBytes).toBeGreaterThan(100_000);
      expect(disk.vmGuestBytes).toBeGreaterThan(0);
      expect(isolation.container.rootfsKiB).toBeGreaterThan(500);
      expect(cpu.vm.wallMs).toBeGreaterThan(0);
      const table = formatCompare(report);
      expect(table).toContain('guest: isola test guest (not Linux: KVM here is PVM');
      expect(table.split('\n').filter((line) => /^(start-up|memory|cpu|disk|isolation):/.test(line))).toHaveLength(9);
    },
    120_000,
  );
});
