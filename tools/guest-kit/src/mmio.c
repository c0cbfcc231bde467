/* The MMIO-trace guest: entered like linux64 (long mode, paging on through the loader's identity map),
 * it makes four accesses to device memory at 0xd0000000, where no device answers (reads see all
 * ones), with instructions written out here so a test can name each one, then exits with PASS. */
#include "kit.h"

#define MMIO_BASE 0xd0000000UL

void linux64_main(void *boot_params) {
	(void)boot_params;
	u64 base = MMIO_BASE, value;
	u32 word;
	__asm__ volatile("movl %1, 0x70(%0)" : : "a"(base), "c"(0xfu) : "memory");
	__asm__ volatile("movb $0x5a, 0x10(%0)" : : "a"(base) : "memory");
	__asm__ volatile("movq 0x8(%1), %0" : "=d"(value) : "a"(base) : "memory");
	__asm__ volatile("movzwl 0x2(%1), %0" : "=r"(word) : "b"(base) : "memory");
	print(value == ~0UL && word == 0xffff ? "mmio: reads saw all ones\n" : "mmio: unexpected read\n");
	finish(PASS);
}
