// /dev/kvm: the system fd. One method per ioctl, as kvm-ioctls' Kvm.
import * as c from '../abi/constants.js';
import * as io from '../abi/ioctls.js';
import * as s from '../abi/structs.js';
import { IsolaError } from '@isola/errors';
import { SyscallError } from '../errors.js';
import { close, ioctl, ioctlValue, open } from '../syscalls/files.js';
import { type CpuidEntry, decodeCpuid } from './cpuid.js';
import { VmFd } from './vm.js';

export class Kvm {
  readonly fd: number;
  #vcpuMmapSize: number | undefined;

  private constructor(fd: number) {
    this.fd = fd;
  }

  /** Opens /dev/kvm and checks that it speaks the stable API (version 12). */
  static open(path = '/dev/kvm'): Kvm {
    const kvm = new Kvm(open(path, c.O_RDWR));
    const version = kvm.getApiVersion();
    if (version !== c.KVM_API_VERSION) {
      kvm.close();
      throw new IsolaError('EKVMVERSION', `${path}: KVM API version ${version}, isola needs ${c.KVM_API_VERSION}`);
    }
    return kvm;
  }

  getApiVersion(): number {
    return ioctlValue(this.fd, io.KVM_GET_API_VERSION, 0, 'KVM_GET_API_VERSION');
  }

  /** KVM_CHECK_EXTENSION: 0 when unsupported, otherwise a capability-specific positive value. */
  checkExtension(capability: c.KvmCapability): number {
    return ioctlValue(this.fd, io.KVM_CHECK_EXTENSION, c.KVM_CAP[capability], `KVM_CHECK_EXTENSION ${capability}`);
  }

  getVcpuMmapSize(): number {
    this.#vcpuMmapSize ??= ioctlValue(this.fd, io.KVM_GET_VCPU_MMAP_SIZE, 0, 'KVM_GET_VCPU_MMAP_SIZE');
    return this.#vcpuMmapSize;
  }

  /** KVM_GET_SUPPORTED_CPUID, growing the buffer while the kernel answers E2BIG. */
  getSupportedCpuid(): CpuidEntry[] {
    for (let max = 128; ; max *= 2) {
      const buf = Buffer.alloc(s.kvm_cpuid2.size + max * s.kvm_cpuid_entry2.size);
      buf.writeUInt32LE(max, s.kvm_cpuid2.nent);
      try {
        ioctl(this.fd, io.KVM_GET_SUPPORTED_CPUID, buf, 'KVM_GET_SUPPORTED_CPUID');
        return decodeCpuid(buf);
      } catch (error) {
        if (!(error instanceof SyscallError && error.code === 'E2BIG') || max >= 4096) throw error;
      }
    }
  }

  /** KVM_GET_MSR_INDEX_LIST: the MSRs KVM saves and restores for a vCPU. */
  getMsrIndexList(): number[] {
    for (let max = 256; ; max *= 2) {
      const buf = Buffer.alloc(s.kvm_msr_list.size + 4 * max);
      buf.writeUInt32LE(max, s.kvm_msr_list.nmsrs);
      try {
        ioctl(this.fd, io.KVM_GET_MSR_INDEX_LIST, buf, 'KVM_GET_MSR_INDEX_LIST');
      } catch (error) {
        if (!(error instanceof SyscallError && error.code === 'E2BIG') || max >= 65536) throw error;
        continue;
      }
      const n = buf.readUInt32LE(s.kvm_msr_list.nmsrs);
      return Array.from({ length: n }, (_, i) => buf.readUInt32LE(s.kvm_msr_list.indices + 4 * i));
    }
  }

  /**
   * KVM_CREATE_VM. It fails with EINTR when a signal arrives while KVM sets the VM up (a profiler's
   * SIGPROF does it): no VM exists then, so it is asked again.
   */
  createVm(): VmFd {
    for (let attempt = 1; ; attempt++) {
      try {
        return new VmFd(ioctlValue(this.fd, io.KVM_CREATE_VM, 0, 'KVM_CREATE_VM'), this.getVcpuMmapSize());
      } catch (error) {
        if (attempt >= 5 || !(error instanceof SyscallError) || error.code !== 'EINTR') throw error;
      }
    }
  }

  close(): void {
    close(this.fd);
  }
}
