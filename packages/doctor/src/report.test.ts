import { describe, expect, it } from 'vitest';
import { itNeeds } from '../../../test/support/requirements.js';
import { formatReport, runDoctor, SECTIONS } from './report.js';

describe('isola doctor', () => {
  it('reports every section on this host and can run containers here', () => {
    const report = runDoctor({ measureKvm: false, version: '0.0.0-test' });
    expect(Object.keys(report.checks)).toEqual([...SECTIONS]);
    expect(report.ok).toBe(true);
    expect(report.checks.kernel.summary).toMatch(/^Linux \d+\.\d+/);
    expect(report.checks.namespaces.details).toMatchObject({ available: expect.arrayContaining(['mnt', 'pid', 'net']) });
    expect(report.checks.tools.details).toHaveProperty('qemu-img');
    const text = formatReport(report);
    expect(text.split('\n')).toHaveLength(SECTIONS.length + 2);
    expect(text).toMatch(/^isola 0\.0\.0-test\n✓ kernel/);
  });

  it('turns a probe failure into a missing check that names the cause', () => {
    const report = runDoctor({ kvmDevice: '/nonexistent/kvm', measureKvm: false });
    expect(report.checks.kvm.status).toBe('missing');
    expect(report.checks.kvm.summary).toBe('open("/nonexistent/kvm"): ENOENT (No such file or directory)');
    // KVM is not essential for containers.
    expect(report.ok).toBe(true);
  });

  it('is not ok when an essential is missing, and says so', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'isola-doctor-'));
    try {
      const mountinfo = join(dir, 'mountinfo');
      writeFileSync(mountinfo, '22 1 8:1 / / rw,relatime - ext4 /dev/vda1 rw\n');
      const report = runDoctor({ mountinfo, measureKvm: false });
      expect(report.checks.cgroups).toMatchObject({ status: 'missing', essential: true, summary: 'no cgroup filesystem is mounted' });
      expect(report.ok).toBe(false);
      const text = formatReport(report);
      expect(text).toMatch(/^✗ cgroups +no cgroup filesystem is mounted$/m);
      expect(text).toMatch(/\nisola cannot run containers on this host: an essential check \(✗\) failed\.$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  itNeeds({ kvm: true })('measures how fast a guest runs', () => {
    const kvm = runDoctor({ measureKvm: true }).checks.kvm;
    expect(kvm.status).not.toBe('missing');
    const speed = (kvm.details as { guestSpeed: { instructionsPerSecond: number; seconds: number } }).guestSpeed;
    expect(speed.seconds).toBeGreaterThanOrEqual(0.02);
    expect(speed.instructionsPerSecond).toBeGreaterThan(1e5);
    expect(kvm.summary).toMatch(/API 12.*instructions\/s/);
  });
});
