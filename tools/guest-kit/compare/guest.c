/* `isola compare`'s guest: prints hello, then, when its command line holds loop=N, times
 * spin_timed(N) (spin.S) and prints "loop N tsc T", and ends with the pass status on the debug-exit port. */
#include "../src/kit.h"

struct hvm_start_info {
	u32 magic, version, flags, nr_modules;
	u64 modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	u32 memmap_entries, reserved;
};

u64 spin_timed(u64 iterations);

static u64 loop_count(const char *cmdline) {
	if (!cmdline) return 0;
	for (const char *p = cmdline; *p; p++) {
		if ((p == cmdline || p[-1] == ' ') && same(p, "loop=", 5)) {
			u64 n = 0;
			for (p += 5; *p >= '0' && *p <= '9'; p++) n = n * 10 + (u64)(*p - '0');
			return n;
		}
	}
	return 0;
}

void guest_main(const struct hvm_start_info *start_info) {
	print("hello\n");
	u64 n = start_info && start_info->magic == 0x336ec578 ? loop_count((const char *)start_info->cmdline_paddr) : 0;
	if (n) {
		u64 cycles = spin_timed(n);
		print("loop ");
		print_dec(n);
		print(" tsc ");
		print_dec(cycles);
		put('\n');
	}
	finish(PASS);
}
