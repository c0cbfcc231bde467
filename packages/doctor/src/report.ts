// `isola doctor`: every probe, in the order a person reads them.
import { type Check, guarded } from './check.js';
import { probeCgroups } from './probes/cgroups.js';
import { probeKernel } from './probes/kernel.js';
import { probeKvm } from './probes/kvm.js';
import { probeNamespaces } from './probes/namespaces.js';
import { probeOverlay } from './probes/overlay.js';
import { probeCapabilities, probeRlimits } from './probes/privileges.js';
import { probeTools } from './probes/tools.js';

export const SECTIONS = ['kernel', 'namespaces', 'cgroups', 'overlayfs', 'kvm', 'capabilities', 'rlimits', 'tools'] as const;
export type Section = (typeof SECTIONS)[number];

export interface DoctorReport {
  isola: string;
  checks: Record<Section, Check>;
  /** False when an essential check is missing: `isola doctor` then exits non-zero. */
  ok: boolean;
}

export interface DoctorOptions {
  /** Measure guest instructions per second (runs a tiny guest for ~20 ms). Default true. */
  measureKvm?: boolean;
  kvmDevice?: string;
  /** The mount table to read cgroup mounts from (default /proc/self/mountinfo). */
  mountinfo?: string;
  version?: string;
}

export function runDoctor(options: DoctorOptions = {}): DoctorReport {
  const checks: Record<Section, Check> = {
    kernel: guarded(true, probeKernel),
    namespaces: guarded(true, () => probeNamespaces()),
    cgroups: guarded(true, () => probeCgroups(options.mountinfo)),
    overlayfs: guarded(false, probeOverlay),
    kvm: guarded(false, () => probeKvm({ device: options.kvmDevice, measure: options.measureKvm })),
    capabilities: guarded(false, probeCapabilities),
    rlimits: guarded(false, probeRlimits),
    tools: guarded(false, () => probeTools()),
  };
  const ok = Object.values(checks).every((c) => !(c.essential && c.status === 'missing'));
  return { isola: options.version ?? 'unknown', checks, ok };
}

const MARK = { ok: '✓', warn: '!', missing: '✗' } as const;

export function formatReport(report: DoctorReport): string {
  const width = Math.max(...SECTIONS.map((s) => s.length));
  const lines = [`isola ${report.isola}`];
  for (const section of SECTIONS) {
    const c = report.checks[section];
    lines.push(`${MARK[c.status]} ${section.padEnd(width)}  ${c.summary}`);
  }
  lines.push(report.ok ? 'isola can run containers on this host.' : 'isola cannot run containers on this host: an essential check (✗) failed.');
  return lines.join('\n');
}
