// A device's interrupt line as a KVM irqfd: writing the eventfd makes the in-kernel I/O APIC see an
// edge on the GSI, one write(2) from whichever thread completes the request, no vCPU exit involved.
import { close, eventfd, write, type VmFd } from '@isola/sys';

const ONE = new Uint8Array(new BigUint64Array([1n]).buffer);

export class IrqfdLine {
  readonly gsi: number;
  readonly #vm: VmFd;
  readonly #fd: number;
  #closed = false;

  constructor(vm: VmFd, gsi: number) {
    this.gsi = gsi;
    this.#vm = vm;
    this.#fd = eventfd(0);
    try {
      vm.irqfd(this.#fd, gsi);
    } catch (error) {
      close(this.#fd);
      throw error;
    }
  }

  pulse(): void {
    if (!this.#closed) write(this.#fd, ONE);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#vm.irqfd(this.#fd, this.gsi, { deassign: true });
    } finally {
      close(this.#fd);
    }
  }
}
