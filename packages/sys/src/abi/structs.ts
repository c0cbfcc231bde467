// Struct layouts of the kernel ABI (x86-64), in one place. Each layout is the struct's size and the byte
// offset of each field, named exactly as in the C headers (nested members as "io.port"), so that
// abi.test.ts can check every one of them against offsetof() from <linux/kvm.h> when a C compiler is present.

export interface Layout {
  readonly size: number;
  readonly [field: string]: number;
}

export const kvm_userspace_memory_region = {
  size: 32, slot: 0, flags: 4, guest_phys_addr: 8, memory_size: 16, userspace_addr: 24,
} as const satisfies Layout;

export const kvm_regs = {
  size: 144, rax: 0, rbx: 8, rcx: 16, rdx: 24, rsi: 32, rdi: 40, rsp: 48, rbp: 56,
  r8: 64, r9: 72, r10: 80, r11: 88, r12: 96, r13: 104, r14: 112, r15: 120, rip: 128, rflags: 136,
} as const satisfies Layout;

export const kvm_segment = {
  size: 24, base: 0, limit: 8, selector: 12, type: 14, present: 15, dpl: 16, db: 17, s: 18, l: 19, g: 20,
  avl: 21, unusable: 22,
} as const satisfies Layout;

export const kvm_dtable = { size: 16, base: 0, limit: 8 } as const satisfies Layout;

export const kvm_sregs = {
  size: 312, cs: 0, ds: 24, es: 48, fs: 72, gs: 96, ss: 120, tr: 144, ldt: 168, gdt: 192, idt: 208,
  cr0: 224, cr2: 232, cr3: 240, cr4: 248, cr8: 256, efer: 264, apic_base: 272, interrupt_bitmap: 280,
} as const satisfies Layout;

export const kvm_fpu = {
  size: 416, fpr: 0, fcw: 128, fsw: 130, ftwx: 132, last_opcode: 134, last_ip: 136, last_dp: 144, xmm: 152,
  mxcsr: 408,
} as const satisfies Layout;

export const kvm_msrs = { size: 8, nmsrs: 0, entries: 8 } as const satisfies Layout;
export const kvm_msr_entry = { size: 16, index: 0, data: 8 } as const satisfies Layout;
export const kvm_msr_list = { size: 4, nmsrs: 0, indices: 4 } as const satisfies Layout;

export const kvm_cpuid2 = { size: 8, nent: 0, entries: 8 } as const satisfies Layout;
export const kvm_cpuid_entry2 = {
  size: 40, function: 0, index: 4, flags: 8, eax: 12, ebx: 16, ecx: 20, edx: 24,
} as const satisfies Layout;

export const kvm_lapic_state = { size: 1024, regs: 0 } as const satisfies Layout;
export const kvm_irq_level = { size: 8, irq: 0, level: 4 } as const satisfies Layout;
export const kvm_irqfd = { size: 32, fd: 0, gsi: 4, flags: 8, resamplefd: 12 } as const satisfies Layout;
export const kvm_ioeventfd = {
  size: 64, datamatch: 0, addr: 8, len: 16, fd: 20, flags: 24,
} as const satisfies Layout;
export const kvm_pit_config = { size: 64, flags: 0 } as const satisfies Layout;
export const kvm_mp_state = { size: 4, mp_state: 0 } as const satisfies Layout;

/** The shared page mmapped from a vCPU fd; only the fields isola reads or writes. */
export const kvm_run = {
  size: 304, // up to the end of the exit union; the mapping itself is KVM_GET_VCPU_MMAP_SIZE bytes
  request_interrupt_window: 0, immediate_exit: 1, exit_reason: 8, ready_for_interrupt_injection: 12,
  if_flag: 13, flags: 14, cr8: 16, apic_base: 24,
  'io.direction': 32, 'io.size': 33, 'io.port': 34, 'io.count': 36, 'io.data_offset': 40,
  'mmio.phys_addr': 32, 'mmio.data': 40, 'mmio.len': 48, 'mmio.is_write': 52,
  'internal.suberror': 32, 'internal.ndata': 36, 'internal.data': 40,
  'fail_entry.hardware_entry_failure_reason': 32, 'fail_entry.cpu': 40,
  'ex.exception': 32, 'ex.error_code': 36,
  'system_event.type': 32, 'system_event.ndata': 36, 'system_event.data': 40,
} as const satisfies Layout;

/** struct ifreq as TUNSETIFF uses it: the interface name, then the flags. */
export const ifreq = { size: 40, ifr_name: 0, ifr_flags: 16 } as const satisfies Layout;

/** struct __user_cap_header_struct and one __user_cap_data_struct (capget/capset use two of them). */
export const user_cap_header = { size: 8, version: 0, pid: 4 } as const satisfies Layout;
export const user_cap_data = { size: 12, effective: 0, permitted: 4, inheritable: 8 } as const satisfies Layout;

export const rlimit = { size: 16, rlim_cur: 0, rlim_max: 8 } as const satisfies Layout;

/** The part of siginfo_t that waitid fills for a child. */
export const siginfo = { size: 128, si_signo: 0, si_errno: 4, si_code: 8, si_pid: 16, si_uid: 20, si_status: 24 } as const satisfies Layout;

/** struct sockaddr_un: the family, then the path (108 bytes). */
export const sockaddr_un = { size: 110, sun_family: 0, sun_path: 2 } as const satisfies Layout;
export const msghdr = { size: 56, msg_name: 0, msg_namelen: 8, msg_iov: 16, msg_iovlen: 24, msg_control: 32, msg_controllen: 40, msg_flags: 48 } as const satisfies Layout;
/** struct sockaddr_nl (netlink) and struct sockaddr_in (the port is big-endian, the address too). */
export const sockaddr_nl = { size: 12, nl_family: 0, nl_pid: 4, nl_groups: 8 } as const satisfies Layout;
export const sockaddr_in = { size: 16, sin_family: 0, sin_port: 2, sin_addr: 4 } as const satisfies Layout;
export const iovec = { size: 16, iov_base: 0, iov_len: 8 } as const satisfies Layout;
/** struct cmsghdr; the data (one int fd for SCM_RIGHTS) follows at CMSG_DATA = 16. */
export const cmsghdr = { size: 16, cmsg_len: 0, cmsg_level: 8, cmsg_type: 12 } as const satisfies Layout;
export const winsize = { size: 8, ws_row: 0, ws_col: 2, ws_xpixel: 4, ws_ypixel: 6 } as const satisfies Layout;
