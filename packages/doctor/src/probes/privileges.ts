import { abi, allRlimits, capabilityNames, capget, type Rlimit } from '@isola/sys';
import { type Check, check } from '../check.js';

export interface CapabilityDetails {
  uid: number;
  effective: string[];
  /** Capabilities the kernel knows that this process lacks. */
  lacking: string[];
}

export function probeCapabilities(): Check<CapabilityDetails> {
  const effective = capabilityNames(capget().effective);
  const lacking = abi.CAPABILITIES.filter((name) => !effective.includes(name));
  const details = { uid: process.getuid?.() ?? -1, effective, lacking };
  const root = details.uid === 0;
  const summary = `${root ? 'root' : `uid ${details.uid}`}, ${effective.length} of ${abi.CAPABILITIES.length} effective${lacking.length ? `; lacks ${lacking.join(', ')}` : ''}`;
  // Without root, isola runs rootless containers only (user namespaces), so this is a warning.
  return check(root && effective.includes('CAP_SYS_ADMIN') ? 'ok' : 'warn', false, summary, details);
}

export type RlimitDetails = Record<string, { soft: number | 'unlimited'; hard: number | 'unlimited' }>;

const SHOWN: abi.RlimitName[] = ['RLIMIT_NOFILE', 'RLIMIT_NPROC', 'RLIMIT_MEMLOCK', 'RLIMIT_STACK', 'RLIMIT_CORE'];

const show = (v: number): number | 'unlimited' => (v === Infinity ? 'unlimited' : v);
const shortName = (name: string): string => name.replace('RLIMIT_', '').toLowerCase();

export function probeRlimits(): Check<RlimitDetails> {
  const all = allRlimits();
  const details: RlimitDetails = {};
  for (const [name, limit] of Object.entries(all) as Array<[string, Rlimit]>) details[shortName(name)] = { soft: show(limit.soft), hard: show(limit.hard) };
  const summary = SHOWN.map((name) => `${shortName(name)} ${details[shortName(name)]!.soft}/${details[shortName(name)]!.hard}`).join(', ');
  return check('ok', false, summary, details);
}
