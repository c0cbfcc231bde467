// A VM fd: memory slots, the in-kernel irqchip and PIT, interrupt lines, irqfds and ioeventfds, vCPUs.
import * as c from '../abi/constants.js';
import * as io from '../abi/ioctls.js';
import * as s from '../abi/structs.js';
import { close, ioctl, ioctlValue } from '../syscalls/files.js';
import { VcpuFd } from './vcpu.js';

export interface MemoryRegion {
  slot: number;
  guestPhysAddr: bigint | number;
  memorySize: number;
  /** Host virtual address of the backing memory (Mapping.address). */
  userspaceAddr: bigint;
  readonly?: boolean;
  logDirtyPages?: boolean;
}

export interface Ioeventfd {
  fd: number;
  address: bigint | number;
  /** Access width in bytes: 0 (any), 1, 2, 4 or 8. */
  length: number;
  /** A port-I/O address instead of an MMIO one. */
  pio?: boolean;
  /** Signal only when the guest writes this value. */
  datamatch?: bigint;
}

export class VmFd {
  readonly fd: number;
  readonly #vcpuMmapSize: number;

  constructor(fd: number, vcpuMmapSize: number) {
    this.fd = fd;
    this.#vcpuMmapSize = vcpuMmapSize;
  }

  checkExtension(capability: c.KvmCapability): number {
    return ioctlValue(this.fd, io.KVM_CHECK_EXTENSION, c.KVM_CAP[capability], `KVM_CHECK_EXTENSION ${capability}`);
  }

  setUserMemoryRegion(region: MemoryRegion): void {
    const f = s.kvm_userspace_memory_region;
    const buf = Buffer.alloc(f.size);
    buf.writeUInt32LE(region.slot, f.slot);
    buf.writeUInt32LE((region.readonly ? c.KVM_MEM_READONLY : 0) | (region.logDirtyPages ? c.KVM_MEM_LOG_DIRTY_PAGES : 0), f.flags);
    buf.writeBigUInt64LE(BigInt(region.guestPhysAddr), f.guest_phys_addr);
    buf.writeBigUInt64LE(BigInt(region.memorySize), f.memory_size);
    buf.writeBigUInt64LE(region.userspaceAddr, f.userspace_addr);
    ioctl(this.fd, io.KVM_SET_USER_MEMORY_REGION, buf, `KVM_SET_USER_MEMORY_REGION slot ${region.slot} at 0x${region.guestPhysAddr.toString(16)}`);
  }

  /** Three pages of guest-physical space KVM needs on Intel for real-mode emulation. */
  setTssAddress(address: number): void {
    ioctlValue(this.fd, io.KVM_SET_TSS_ADDR, address, 'KVM_SET_TSS_ADDR');
  }

  setIdentityMapAddress(address: bigint | number): void {
    const buf = Buffer.alloc(8);
    buf.writeBigUInt64LE(BigInt(address));
    ioctl(this.fd, io.KVM_SET_IDENTITY_MAP_ADDR, buf, 'KVM_SET_IDENTITY_MAP_ADDR');
  }

  createIrqchip(): void {
    ioctlValue(this.fd, io.KVM_CREATE_IRQCHIP, 0, 'KVM_CREATE_IRQCHIP');
  }

  createPit2(flags = c.KVM_PIT_SPEAKER_DUMMY): void {
    const buf = Buffer.alloc(s.kvm_pit_config.size);
    buf.writeUInt32LE(flags, s.kvm_pit_config.flags);
    ioctl(this.fd, io.KVM_CREATE_PIT2, buf, 'KVM_CREATE_PIT2');
  }

  irqLine(irq: number, level: boolean): void {
    const buf = Buffer.alloc(s.kvm_irq_level.size);
    buf.writeUInt32LE(irq, s.kvm_irq_level.irq);
    buf.writeUInt32LE(level ? 1 : 0, s.kvm_irq_level.level);
    ioctl(this.fd, io.KVM_IRQ_LINE, buf, `KVM_IRQ_LINE ${irq}`);
  }

  /** Routes writes to eventfd `fd` to interrupt `gsi` (unregister with deassign). */
  irqfd(fd: number, gsi: number, options: { deassign?: boolean; resampleFd?: number } = {}): void {
    const f = s.kvm_irqfd;
    const buf = Buffer.alloc(f.size);
    buf.writeUInt32LE(fd, f.fd);
    buf.writeUInt32LE(gsi, f.gsi);
    let flags = options.deassign ? c.KVM_IRQFD_FLAG_DEASSIGN : 0;
    if (options.resampleFd !== undefined) {
      flags |= c.KVM_IRQFD_FLAG_RESAMPLE;
      buf.writeUInt32LE(options.resampleFd, f.resamplefd);
    }
    buf.writeUInt32LE(flags, f.flags);
    ioctl(this.fd, io.KVM_IRQFD, buf, `KVM_IRQFD gsi ${gsi}`);
  }

  /** Signals eventfd `fd` on guest writes to an address, without a VM exit to userspace. */
  ioeventfd(event: Ioeventfd, deassign = false): void {
    const f = s.kvm_ioeventfd;
    const buf = Buffer.alloc(f.size);
    let flags = (event.pio ? c.KVM_IOEVENTFD_FLAG_PIO : 0) | (deassign ? c.KVM_IOEVENTFD_FLAG_DEASSIGN : 0);
    if (event.datamatch !== undefined) {
      flags |= c.KVM_IOEVENTFD_FLAG_DATAMATCH;
      buf.writeBigUInt64LE(event.datamatch, f.datamatch);
    }
    buf.writeBigUInt64LE(BigInt(event.address), f.addr);
    buf.writeUInt32LE(event.length, f.len);
    buf.writeInt32LE(event.fd, f.fd);
    buf.writeUInt32LE(flags, f.flags);
    ioctl(this.fd, io.KVM_IOEVENTFD, buf, `KVM_IOEVENTFD 0x${event.address.toString(16)}`);
  }

  createVcpu(id: number): VcpuFd {
    const fd = ioctlValue(this.fd, io.KVM_CREATE_VCPU, id, `KVM_CREATE_VCPU ${id}`);
    return new VcpuFd(fd, id, this.#vcpuMmapSize);
  }

  close(): void {
    close(this.fd);
  }
}
