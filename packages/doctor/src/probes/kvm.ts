import { existsSync, readFileSync } from 'node:fs';
import { Kvm, abi } from '@isola/sys';
import { type Check, check } from '../check.js';
import { type GuestSpeed, measureGuestSpeed } from './guest-speed.js';

export interface KvmDetails {
  device: string;
  apiVersion: number;
  /** The kernel module providing KVM: kvm_intel, kvm_amd or kvm_pvm. */
  module: string | null;
  /** Hardware virtualization flags of the host CPU (vmx/svm); PVM works without them. */
  cpuFlags: string[];
  capabilities: Partial<Record<abi.KvmCapability, number>>;
  guestSpeed: GuestSpeed | null;
}

const REPORTED: abi.KvmCapability[] = ['IRQCHIP', 'PIT2', 'IRQFD', 'IOEVENTFD', 'IMMEDIATE_EXIT', 'READONLY_MEM', 'NR_MEMSLOTS', 'MAX_VCPUS'];

function kvmModule(): string | null {
  return ['kvm_intel', 'kvm_amd', 'kvm_pvm'].find((m) => existsSync(`/sys/module/${m}`)) ?? null;
}

function cpuFlags(): string[] {
  const flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim().split(/\s+/) ?? [];
  return flags.filter((f) => f === 'vmx' || f === 'svm');
}

export function formatRate(perSecond: number): string {
  if (perSecond >= 1e9) return `${(perSecond / 1e9).toFixed(1)} G`;
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(1)} M`;
  return `${(perSecond / 1e3).toFixed(0)} k`;
}

export function probeKvm(options: { device?: string; measure?: boolean } = {}): Check<KvmDetails> {
  const device = options.device ?? '/dev/kvm';
  const kvm = Kvm.open(device);
  try {
    const capabilities: KvmDetails['capabilities'] = {};
    for (const cap of REPORTED) capabilities[cap] = kvm.checkExtension(cap);
    const guestSpeed = options.measure === false ? null : measureGuestSpeed(kvm);
    const details: KvmDetails = { device, apiVersion: kvm.getApiVersion(), module: kvmModule(), cpuFlags: cpuFlags(), capabilities, guestSpeed };
    let summary = `${device}, API ${details.apiVersion}${details.module ? `, ${details.module}` : ''}`;
    if (guestSpeed) {
      const nsPer = 1e9 / guestSpeed.instructionsPerSecond;
      summary += `, guest runs ${formatRate(guestSpeed.instructionsPerSecond)} instructions/s (${nsPer >= 100 ? `${(nsPer / 1000).toFixed(2)} µs` : `${nsPer.toFixed(2)} ns`} each)`;
    }
    const missing = (['IRQCHIP', 'IOEVENTFD', 'IRQFD'] as const).filter((cap) => !capabilities[cap]);
    if (missing.length > 0) return check('warn', false, `${summary}; lacks ${missing.join(', ')}`, details);
    return check('ok', false, summary, details);
  } finally {
    kvm.close();
  }
}
