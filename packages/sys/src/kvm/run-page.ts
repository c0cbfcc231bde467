// A vCPU's kvm_run page, read in place. Port I/O and MMIO exits are a guest's device traffic, tens of
// thousands a second: a vCPU loop reads their fields through views made once (run(), ioPort, ioData(),
// mmioAddress, ...), and their data is a view made again only when its offset or length changes, so
// that path allocates nothing. decode() turns the current exit into the VcpuExit union (what
// VcpuFd.run() returns), for the rarer exits and for code that prefers the union.
import * as c from '../abi/constants.js';
import * as structs from '../abi/structs.js';
import { SyscallError } from '../errors.js';
import type { VcpuExit } from './exits.js';

const s = structs.kvm_run;

/** run() result for KVM_RUN's EAGAIN: an application processor's INIT/SIPI arrived; run again. */
export const EXIT_AGAIN = -1;

const INTERNAL_REASONS: Record<number, Extract<VcpuExit, { kind: 'internal-error' }>['reason']> = {
  [c.KVM_INTERNAL_ERROR_EMULATION]: 'emulation',
  [c.KVM_INTERNAL_ERROR_SIMUL_EX]: 'simultaneous-exception',
  [c.KVM_INTERNAL_ERROR_DELIVERY_EV]: 'delivery-event',
  [c.KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON]: 'unexpected-exit-reason',
};
const SYSTEM_EVENTS: Record<number, 'shutdown' | 'reset' | 'crash'> = {
  [c.KVM_SYSTEM_EVENT_SHUTDOWN]: 'shutdown',
  [c.KVM_SYSTEM_EVENT_RESET]: 'reset',
  [c.KVM_SYSTEM_EVENT_CRASH]: 'crash',
};
/** KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES: data[0] is flags, then insn_size and insn_bytes[15]. */
const EMULATION_FLAG_INSTRUCTION_BYTES = 1n;

export class RunPage {
  readonly bytes: Uint8Array;
  readonly #view: DataView;
  readonly #enter: () => void;
  #ioView: Uint8Array;
  #ioOffset = -1;
  readonly #mmioViews: Uint8Array[];

  /**
   * `bytes` is the kvm_run page; `enter` runs the vCPU (KVM_RUN), throwing SyscallError on failure.
   * VcpuFd.page is one over a real vCPU; tests give a buffer and a function that writes exits (encodeExit).
   */
  constructor(bytes: Uint8Array, enter: () => void) {
    this.bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#enter = enter;
    this.#ioView = bytes.subarray(0, 0);
    this.#mmioViews = Array.from({ length: 9 }, (_, length) => bytes.subarray(s['mmio.data'], s['mmio.data'] + length));
  }

  /**
   * KVM_RUN until the next exit: its reason (abi.KVM_EXIT_*), KVM_EXIT_INTR when a signal or
   * immediate_exit (a kick) ended it, EXIT_AGAIN on EAGAIN. Other failures throw.
   */
  run(): number {
    try {
      this.#enter();
    } catch (error) {
      if (error instanceof SyscallError) {
        if (error.code === 'EINTR') return c.KVM_EXIT_INTR;
        if (error.code === 'EAGAIN') return EXIT_AGAIN;
      }
      throw error;
    }
    return this.#view.getUint32(s.exit_reason, true);
  }

  // KVM_EXIT_IO
  get ioOut(): boolean {
    return this.bytes[s['io.direction']] === c.KVM_EXIT_IO_OUT;
  }

  get ioPort(): number {
    return this.#view.getUint16(s['io.port'], true);
  }

  get ioSize(): number {
    return this.bytes[s['io.size']]!;
  }

  get ioCount(): number {
    return this.#view.getUint32(s['io.count'], true);
  }

  /** The bytes of all `ioCount` accesses (out: what the guest wrote; in: where the answer goes). */
  ioData(): Uint8Array {
    // data_offset is a u64 offset into this page: its high half is zero.
    const offset = this.#view.getUint32(s['io.data_offset'], true);
    const length = this.ioSize * this.ioCount;
    if (offset !== this.#ioOffset || length !== this.#ioView.length) {
      this.#ioView = this.bytes.subarray(offset, offset + length);
      this.#ioOffset = offset;
    }
    return this.#ioView;
  }

  // KVM_EXIT_MMIO
  /** The guest-physical address: below 2^53, so a number. */
  get mmioAddress(): number {
    return this.#view.getUint32(s['mmio.phys_addr'] + 4, true) * 0x1_0000_0000 + this.#view.getUint32(s['mmio.phys_addr'], true);
  }

  get mmioIsWrite(): boolean {
    return this.bytes[s['mmio.is_write']] !== 0;
  }

  /** The access's 1-8 bytes (write: the guest's; read: where the answer goes). */
  mmioData(): Uint8Array {
    return this.#mmioViews[Math.min(this.#view.getUint32(s['mmio.len'], true), 8)]!;
  }

  /** The current exit as VcpuExit (what VcpuFd.run() would have returned), for the rarer exits and traces. */
  decode(reason = this.#view.getUint32(s.exit_reason, true)): VcpuExit {
    const view = this.#view;
    switch (reason) {
      case c.KVM_EXIT_IO:
        return { kind: 'io', direction: this.ioOut ? 'out' : 'in', port: this.ioPort, size: this.ioSize, count: this.ioCount, data: this.ioData() };
      case c.KVM_EXIT_MMIO: {
        const data = this.mmioData();
        return { kind: 'mmio', address: BigInt(this.mmioAddress), isWrite: this.mmioIsWrite, length: view.getUint32(s['mmio.len'], true), data };
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
        return { kind: 'exception', exception: view.getUint32(s['ex.exception'], true), errorCode: view.getUint32(s['ex.error_code'], true) };
      case c.KVM_EXIT_FAIL_ENTRY:
        return { kind: 'fail-entry', hardwareReason: view.getBigUint64(s['fail_entry.hardware_entry_failure_reason'], true), cpu: view.getUint32(s['fail_entry.cpu'], true) };
      case c.KVM_EXIT_SYSTEM_EVENT: {
        const type = view.getUint32(s['system_event.type'], true);
        return { kind: 'system-event', event: SYSTEM_EVENTS[type] ?? 'other', type, data: this.#words(s['system_event.data'], view.getUint32(s['system_event.ndata'], true)) };
      }
      case c.KVM_EXIT_INTERNAL_ERROR: {
        const suberror = view.getUint32(s['internal.suberror'], true);
        const data = this.#words(s['internal.data'], view.getUint32(s['internal.ndata'], true));
        const exit: VcpuExit = { kind: 'internal-error', suberror, reason: INTERNAL_REASONS[suberror] ?? 'other', data };
        if (suberror === c.KVM_INTERNAL_ERROR_EMULATION && data.length >= 2 && (data[0]! & EMULATION_FLAG_INSTRUCTION_BYTES)) {
          const at = s['internal.data'] + 8;
          exit.instruction = this.bytes.slice(at + 1, at + 1 + Math.min(this.bytes[at]!, 15));
        }
        return exit;
      }
      default:
        return { kind: 'unknown', reason };
    }
  }

  #words(at: number, count: number): bigint[] {
    const out: bigint[] = [];
    for (let i = 0; i < Math.min(count, 16); i++) out.push(this.#view.getBigUint64(at + 8 * i, true));
    return out;
  }
}
