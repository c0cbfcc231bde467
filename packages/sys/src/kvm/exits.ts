// Why KVM_RUN returned, as a discriminated union decoded from the shared kvm_run page (RunPage.decode).
// Data views point into that page and stay valid until the next run: for `io` in and `mmio` reads, the
// device writes its answer into `data` before the vCPU runs again. encodeExit() writes an exit into a
// page as KVM lays it out, for fakes that play exits to a vCPU loop without KVM.
import * as c from '../abi/constants.js';
import * as structs from '../abi/structs.js';

const s = structs.kvm_run;

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

/** Where KVM puts port I/O data in the page (KVM_PIO_PAGE_OFFSET: the second page). */
export const IO_DATA_OFFSET = 4096;

/** Writes `exit` into `page` (at least 3 pages) where KVM would put it; port I/O data goes at offset 4096. */
export function encodeExit(page: Uint8Array, exit: VcpuExit): void {
  const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
  const reason = (r: number) => view.setUint32(s.exit_reason, r, true);
  const words = (at: number, values: bigint[]) => values.forEach((v, i) => view.setBigUint64(at + 8 * i, v, true));
  switch (exit.kind) {
    case 'io':
      reason(c.KVM_EXIT_IO);
      page[s['io.direction']] = exit.direction === 'out' ? c.KVM_EXIT_IO_OUT : c.KVM_EXIT_IO_IN;
      page[s['io.size']] = exit.size;
      view.setUint16(s['io.port'], exit.port, true);
      view.setUint32(s['io.count'], exit.count, true);
      view.setBigUint64(s['io.data_offset'], BigInt(IO_DATA_OFFSET), true);
      page.set(exit.data.subarray(0, exit.size * exit.count), IO_DATA_OFFSET);
      return;
    case 'mmio':
      reason(c.KVM_EXIT_MMIO);
      view.setBigUint64(s['mmio.phys_addr'], exit.address, true);
      view.setUint32(s['mmio.len'], exit.length, true);
      page[s['mmio.is_write']] = exit.isWrite ? 1 : 0;
      page.set(exit.data.subarray(0, 8), s['mmio.data']);
      return;
    case 'hlt':
      return reason(c.KVM_EXIT_HLT);
    case 'shutdown':
      return reason(c.KVM_EXIT_SHUTDOWN);
    case 'intr':
      return reason(c.KVM_EXIT_INTR);
    case 'irq-window-open':
      return reason(c.KVM_EXIT_IRQ_WINDOW_OPEN);
    case 'debug':
      return reason(c.KVM_EXIT_DEBUG);
    case 'exception':
      reason(c.KVM_EXIT_EXCEPTION);
      view.setUint32(s['ex.exception'], exit.exception, true);
      view.setUint32(s['ex.error_code'], exit.errorCode, true);
      return;
    case 'fail-entry':
      reason(c.KVM_EXIT_FAIL_ENTRY);
      view.setBigUint64(s['fail_entry.hardware_entry_failure_reason'], exit.hardwareReason, true);
      view.setUint32(s['fail_entry.cpu'], exit.cpu, true);
      return;
    case 'system-event':
      reason(c.KVM_EXIT_SYSTEM_EVENT);
      view.setUint32(s['system_event.type'], exit.type, true);
      view.setUint32(s['system_event.ndata'], exit.data.length, true);
      words(s['system_event.data'], exit.data);
      return;
    case 'internal-error': {
      reason(c.KVM_EXIT_INTERNAL_ERROR);
      view.setUint32(s['internal.suberror'], exit.suberror, true);
      const data = exit.instruction ? [1n, 0n, 0n] : exit.data;
      view.setUint32(s['internal.ndata'], data.length, true);
      words(s['internal.data'], data);
      if (exit.instruction) {
        page[s['internal.data'] + 8] = exit.instruction.length;
        page.set(exit.instruction.subarray(0, 15), s['internal.data'] + 9);
      }
      return;
    }
    case 'unknown':
      return reason(exit.reason);
  }
}
