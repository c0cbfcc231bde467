// Why KVM_RUN returned, as a discriminated union decoded from the shared kvm_run page. Data views point
// into that page and stay valid until the next run: for `io` in and `mmio` reads, the device writes
// its answer into `data` before the vCPU runs again.
import * as c from '../abi/constants.js';
import * as s from '../abi/structs.js';

export type VcpuExit =
  | { kind: 'io'; direction: 'in' | 'out'; port: number; size: number; count: number; data: Uint8Array }
  | { kind: 'mmio'; address: bigint; isWrite: boolean; length: number; data: Uint8Array }
  | { kind: 'hlt' }
  | { kind: 'shutdown' }
  /** KVM_RUN was interrupted by a signal or immediate_exit (a kick). */
  | { kind: 'intr' }
  | { kind: 'irq-window-open' }
  | { kind: 'debug' }
  | { kind: 'exception'; exception: number; errorCode: number }
  | { kind: 'fail-entry'; hardwareReason: bigint; cpu: number }
  | { kind: 'system-event'; event: 'shutdown' | 'reset' | 'crash' | 'other'; type: number; data: bigint[] }
  | {
      kind: 'internal-error';
      suberror: number;
      reason: 'emulation' | 'simultaneous-exception' | 'delivery-event' | 'unexpected-exit-reason' | 'other';
      data: bigint[];
      /** For emulation failures that carry them: the bytes of the instruction KVM could not emulate. */
      instruction?: Uint8Array;
    }
  | { kind: 'unknown'; reason: number };

export type VcpuExitKind = VcpuExit['kind'];

const INTERNAL_REASONS = {
  [c.KVM_INTERNAL_ERROR_EMULATION]: 'emulation',
  [c.KVM_INTERNAL_ERROR_SIMUL_EX]: 'simultaneous-exception',
  [c.KVM_INTERNAL_ERROR_DELIVERY_EV]: 'delivery-event',
  [c.KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON]: 'unexpected-exit-reason',
} as const;

const SYSTEM_EVENTS = {
  [c.KVM_SYSTEM_EVENT_SHUTDOWN]: 'shutdown',
  [c.KVM_SYSTEM_EVENT_RESET]: 'reset',
  [c.KVM_SYSTEM_EVENT_CRASH]: 'crash',
} as const;

/** KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES: data[0] is flags, then insn_size and insn_bytes[15]. */
const EMULATION_FLAG_INSTRUCTION_BYTES = 1n;

function words(view: DataView, at: number, count: number): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < Math.min(count, 16); i++) out.push(view.getBigUint64(at + 8 * i, true));
  return out;
}

export function decodeExit(run: DataView, bytes: Uint8Array): VcpuExit {
  const reason = run.getUint32(s.kvm_run.exit_reason, true);
  switch (reason) {
    case c.KVM_EXIT_IO: {
      const size = run.getUint8(s.kvm_run['io.size']);
      const count = run.getUint32(s.kvm_run['io.count'], true);
      const offset = Number(run.getBigUint64(s.kvm_run['io.data_offset'], true));
      return {
        kind: 'io',
        direction: run.getUint8(s.kvm_run['io.direction']) === c.KVM_EXIT_IO_OUT ? 'out' : 'in',
        port: run.getUint16(s.kvm_run['io.port'], true),
        size,
        count,
        data: bytes.subarray(offset, offset + size * count),
      };
    }
    case c.KVM_EXIT_MMIO: {
      const length = run.getUint32(s.kvm_run['mmio.len'], true);
      const at = s.kvm_run['mmio.data'];
      return {
        kind: 'mmio',
        address: run.getBigUint64(s.kvm_run['mmio.phys_addr'], true),
        isWrite: run.getUint8(s.kvm_run['mmio.is_write']) !== 0,
        length,
        data: bytes.subarray(at, at + Math.min(length, 8)),
      };
    }
    case c.KVM_EXIT_HLT:
      return { kind: 'hlt' };
    case c.KVM_EXIT_SHUTDOWN:
      return { kind: 'shutdown' };
    case c.KVM_EXIT_INTR:
      return { kind: 'intr' };
    case c.KVM_EXIT_IRQ_WINDOW_OPEN:
      return { kind: 'irq-window-open' };
    case c.KVM_EXIT_DEBUG:
      return { kind: 'debug' };
    case c.KVM_EXIT_EXCEPTION:
      return { kind: 'exception', exception: run.getUint32(s.kvm_run['ex.exception'], true), errorCode: run.getUint32(s.kvm_run['ex.error_code'], true) };
    case c.KVM_EXIT_FAIL_ENTRY:
      return {
        kind: 'fail-entry',
        hardwareReason: run.getBigUint64(s.kvm_run['fail_entry.hardware_entry_failure_reason'], true),
        cpu: run.getUint32(s.kvm_run['fail_entry.cpu'], true),
      };
    case c.KVM_EXIT_SYSTEM_EVENT: {
      const type = run.getUint32(s.kvm_run['system_event.type'], true);
      return {
        kind: 'system-event',
        event: SYSTEM_EVENTS[type as keyof typeof SYSTEM_EVENTS] ?? 'other',
        type,
        data: words(run, s.kvm_run['system_event.data'], run.getUint32(s.kvm_run['system_event.ndata'], true)),
      };
    }
    case c.KVM_EXIT_INTERNAL_ERROR: {
      const suberror = run.getUint32(s.kvm_run['internal.suberror'], true);
      const data = words(run, s.kvm_run['internal.data'], run.getUint32(s.kvm_run['internal.ndata'], true));
      const exit: VcpuExit = {
        kind: 'internal-error',
        suberror,
        reason: INTERNAL_REASONS[suberror as keyof typeof INTERNAL_REASONS] ?? 'other',
        data,
      };
      if (suberror === c.KVM_INTERNAL_ERROR_EMULATION && data.length >= 2 && (data[0]! & EMULATION_FLAG_INSTRUCTION_BYTES)) {
        const at = s.kvm_run['internal.data'] + 8;
        const length = Math.min(bytes[at]!, 15);
        exit.instruction = bytes.slice(at + 1, at + 1 + length);
      }
      return exit;
    }
    default:
      return { kind: 'unknown', reason };
  }
}
