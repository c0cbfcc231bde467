// The isola command as users run it: the built binary, real arguments, real exit statuses.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isolaWith } from '../support/cli.js';
import { itNeeds } from '../support/requirements.js';
import { useTestNetns } from '../support/netns.js';

// isola runs in a network namespace of this file's own: its default bridge is made there, not on the host.
const netns = useTestNetns();

const { version } = JSON.parse(readFileSync(new URL('../../apps/cli/package.json', import.meta.url), 'utf8'));
const isola = isolaWith({ netns });

describe('isola', () => {
  it('prints its version', () => {
    expect(isola('--version')).toEqual({ status: 0, stdout: `isola ${version}\n`, stderr: '' });
  });

  it('answers an unknown command and a bad flag with one line and status 2, no stack trace', () => {
    const unknown = isola('frobnicate');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe('Error: unknown command "frobnicate"\nSee \'isola --help\'.\n');
    const badFlag = isola('doctor', '--bogus');
    expect(badFlag.status).toBe(2);
    expect(badFlag.stderr).toBe("Error: Nonexistent flag: --bogus\nSee 'isola doctor --help'.\n");
  });

  it('names the missing arguments and the reason a value was refused, on one line', () => {
    const missing = isola('img', 'convert');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe("Error: Missing 2 required args: source, target\nSee 'isola img convert --help'.\n");
    const badValue = isola('img', 'bench', '-c', 'abc', 'disk.qcow2');
    expect(badValue.status).toBe(2);
    expect(badValue.stderr).toBe("Error: Parsing --count: Expected an integer but received: abc\nSee 'isola img bench --help'.\n");
  });

  it('lists its commands in --help', () => {
    const help = isola('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/doctor\s+Report what isola can use on this host/);
  });

  itNeeds({ root: true, kvm: true })('doctor reports this host in JSON, with a measured guest speed', () => {
    const result = isola('doctor', '--json');
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.ok).toBe(true);
    expect(report.isola).toBe(version);
    expect(report.checks.cgroups.details.mode).toMatch(/^(v1|v2|hybrid)$/);
    expect(report.checks.kvm.details.apiVersion).toBe(12);
    expect(report.checks.kvm.details.guestSpeed.instructionsPerSecond).toBeGreaterThan(0);
    expect(report.checks.capabilities.details.effective).toContain('CAP_SYS_ADMIN');
  });

  it('doctor prints a human report by default', () => {
    const result = isola('doctor', '--no-measure');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^isola \S+\n[✓!✗] kernel +Linux /);
    expect(result.stdout).toMatch(/[✓!✗] cgroups +(v1|v2|hybrid)/);
  });
});
