// Every ioctl request number isola issues, in one place (checked against the C headers by abi.test.ts).
import { io, ior, iow, iowr } from './ioctl.js';
import * as s from './structs.js';

const KVMIO = 0xae;

export const KVM_GET_API_VERSION = io(KVMIO, 0x00);
export const KVM_CREATE_VM = io(KVMIO, 0x01);
export const KVM_GET_MSR_INDEX_LIST = iowr(KVMIO, 0x02, s.kvm_msr_list.size);
export const KVM_CHECK_EXTENSION = io(KVMIO, 0x03);
export const KVM_GET_VCPU_MMAP_SIZE = io(KVMIO, 0x04);
export const KVM_GET_SUPPORTED_CPUID = iowr(KVMIO, 0x05, s.kvm_cpuid2.size);

export const KVM_CREATE_VCPU = io(KVMIO, 0x41);
export const KVM_SET_USER_MEMORY_REGION = iow(KVMIO, 0x46, s.kvm_userspace_memory_region.size);
export const KVM_SET_TSS_ADDR = io(KVMIO, 0x47);
export const KVM_SET_IDENTITY_MAP_ADDR = iow(KVMIO, 0x48, 8);
export const KVM_CREATE_IRQCHIP = io(KVMIO, 0x60);
export const KVM_IRQ_LINE = iow(KVMIO, 0x61, s.kvm_irq_level.size);
export const KVM_IRQFD = iow(KVMIO, 0x76, s.kvm_irqfd.size);
export const KVM_CREATE_PIT2 = iow(KVMIO, 0x77, s.kvm_pit_config.size);
export const KVM_IOEVENTFD = iow(KVMIO, 0x79, s.kvm_ioeventfd.size);

export const KVM_RUN = io(KVMIO, 0x80);
export const KVM_GET_REGS = ior(KVMIO, 0x81, s.kvm_regs.size);
export const KVM_SET_REGS = iow(KVMIO, 0x82, s.kvm_regs.size);
export const KVM_GET_SREGS = ior(KVMIO, 0x83, s.kvm_sregs.size);
export const KVM_SET_SREGS = iow(KVMIO, 0x84, s.kvm_sregs.size);
export const KVM_GET_MSRS = iowr(KVMIO, 0x88, s.kvm_msrs.size);
export const KVM_SET_MSRS = iow(KVMIO, 0x89, s.kvm_msrs.size);
export const KVM_GET_FPU = ior(KVMIO, 0x8c, s.kvm_fpu.size);
export const KVM_SET_FPU = iow(KVMIO, 0x8d, s.kvm_fpu.size);
export const KVM_GET_LAPIC = ior(KVMIO, 0x8e, s.kvm_lapic_state.size);
export const KVM_SET_LAPIC = iow(KVMIO, 0x8f, s.kvm_lapic_state.size);
export const KVM_SET_CPUID2 = iow(KVMIO, 0x90, s.kvm_cpuid2.size);
export const KVM_GET_CPUID2 = iowr(KVMIO, 0x91, s.kvm_cpuid2.size);
export const KVM_GET_MP_STATE = ior(KVMIO, 0x98, s.kvm_mp_state.size);
export const KVM_SET_MP_STATE = iow(KVMIO, 0x99, s.kvm_mp_state.size);

export const TUNSETIFF = iow(0x54 /* 'T' */, 202, 4);
export const TUNSETPERSIST = iow(0x54, 203, 4);
export const TUNSETVNETHDRSZ = iow(0x54, 216, 4);
export const TUNSETOFFLOAD = iow(0x54, 208, 4);
