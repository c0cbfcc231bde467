/* The guest kit's program: one source, a variant per -DGUEST_<NAME>. Every variant prints over the
 * 8250 at 0x3f8 and ends by writing a status to the debug-exit port 0x501 (42 means it passed).
 * Built freestanding with -mgeneral-regs-only: the only SSE is the instruction a variant tests. */
#include "kit.h"

/* Where the spin variant counts, for the monitor to watch. */
#define COUNTER ((volatile u64 *)0x7000)
/* Exit round trips the bench variants make (bench/vmm). */
#define BENCH_EXITS 20000
/* An address in the MMIO hole that no device claims: every access is an MMIO exit. */
#define BENCH_MMIO ((volatile u32 *)0xd0000000)

struct hvm_start_info {
	u32 magic, version, flags, nr_modules;
	u64 modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	u32 memmap_entries, reserved;
};
struct hvm_memmap_entry {
	u64 addr, size;
	u32 type, reserved;
};

static void serial_init(void) {
	outb(SERIAL + 1, 0x00); /* no interrupts */
	outb(SERIAL + 3, 0x80); /* DLAB */
	outb(SERIAL + 0, 0x01); /* 115200 baud */
	outb(SERIAL + 1, 0x00);
	outb(SERIAL + 3, 0x03); /* 8N1 */
	outb(SERIAL + 2, 0xc7); /* FIFOs on and cleared */
	outb(SERIAL + 4, 0x0b); /* DTR, RTS, OUT2 */
}

#if defined(GUEST_VIRTIO) || defined(GUEST_VBLKBENCH)
#include "virtio.c"
#endif

static void report_start_info(const struct hvm_start_info *si) {
	if (si->magic != 0x336ec578) {
		print("bad start_info magic ");
		print_hex(si->magic);
		put('\n');
		finish(1);
	}
	print("pvh start_info version ");
	print_dec(si->version);
	print(", cmdline \"");
	if (si->cmdline_paddr) print((const char *)si->cmdline_paddr);
	print("\"\n");
	const struct hvm_memmap_entry *map = (const struct hvm_memmap_entry *)si->memmap_paddr;
	for (u32 i = 0; i < si->memmap_entries; i++) {
		print("memmap ");
		print_hex(map[i].addr);
		put(' ');
		print_hex(map[i].size);
		put(' ');
		print_dec(map[i].type);
		put('\n');
	}
}

void guest_main(const struct hvm_start_info *start_info) {
	serial_init();
	print("hello from the guest\n");
	if (start_info) report_start_info(start_info);
#if defined(GUEST_SSE)
	/* SSE needs CR4.OSFXSR; then pxor is one of the instructions KVM cannot emulate on PVM. */
	u64 cr4;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | 0x600));
	print("running pxor\n");
	/* No clobber list: -mgeneral-regs-only forbids naming xmm0, and nothing else uses it. KVM cannot
	 * emulate pxor on PVM, isola's emulator can; aesenc it does not, so the VM stops there. */
	__asm__ volatile("pxor %xmm0, %xmm0");
	print("pxor ran\n");
	__asm__ volatile("aesenc %xmm1, %xmm0");
	print("aesenc ran\n");
#elif defined(GUEST_INT3)
	print("running int3\n");
	__asm__ volatile("int3");
	print("int3 ran\n");
#elif defined(GUEST_CX16)
	static volatile u64 pair[2] __attribute__((aligned(16))) = {1, 2};
	u64 lo = 1, hi = 2, new_lo = 0x1111, new_hi = 0x2222;
	u8 equal;
	__asm__ volatile("lock cmpxchg16b %1; sete %0"
			 : "=q"(equal), "+m"(*pair), "+a"(lo), "+d"(hi)
			 : "b"(new_lo), "c"(new_hi)
			 : "memory", "cc");
	if (!equal || pair[0] != 0x1111 || pair[1] != 0x2222) {
		print("cmpxchg16b wrong\n");
		finish(1);
	}
	print("cmpxchg16b ok\n");
#elif defined(GUEST_SPIN)
	print("spinning\n");
	for (;;) *COUNTER = *COUNTER + 1;
#elif defined(GUEST_ECHO)
	print("ready\n");
	for (;;) {
		while (!(inb(SERIAL + 5) & 0x01))
			;
		char c = (char)inb(SERIAL);
		put(c);
		if (c == '\n') break;
	}
#elif defined(GUEST_PIO)
	for (u32 i = 0; i < BENCH_EXITS; i++) outb(0x80, (u8)i);
	print("done\n");
#elif defined(GUEST_MMIO)
	for (u32 i = 0; i < BENCH_EXITS; i++) *BENCH_MMIO = i;
	print("done\n");
#elif defined(GUEST_VIRTIO)
	virtio_test();
#elif defined(GUEST_VBLKBENCH)
	virtio_bench();
#elif defined(GUEST_POWEROFF)
	/* Waits for the monitor's power-off request, Ctrl+Alt+Del on the i8042 (scancode set 2 make
	 * codes 0x14 0x11 0xe0 0x71), polling the controller's status, then ends cleanly. */
	static const u8 ctrl_alt_del[] = {0x14, 0x11, 0xe0, 0x71};
	unsigned matched = 0;
	print("ready\n");
	while (matched < sizeof ctrl_alt_del) {
		if (!(inb(0x64) & 0x01)) {
			__asm__ volatile("pause");
			continue;
		}
		u8 code = inb(0x60);
		matched = code == ctrl_alt_del[matched] ? matched + 1 : code == ctrl_alt_del[0];
	}
	print("ctrl-alt-del: powering off\n");
#elif defined(GUEST_RESET)
	print("resetting\n");
	outb(0x64, 0xfe);
	for (;;) __asm__ volatile("hlt");
#endif
	finish(PASS);
}
