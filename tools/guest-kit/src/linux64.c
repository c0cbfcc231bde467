/* The Linux-boot guest: entered like a vmlinux through the 64-bit boot protocol, it reports what
 * boot_params says (the command line, the initrd's size and first bytes, the e820 table) and walks
 * the ACPI tables from acpi_rsdp_addr: RSDP → XSDT → MADT (local APICs) and FADT → DSDT (virtio-mmio
 * devices), checking every checksum on the way, as Linux would. */
#include "kit.h"

struct e820 {
	u64 addr, size;
	u32 type;
} __attribute__((packed));

static u8 sum(const u8 *p, u32 n) {
	u8 s = 0;
	for (u32 i = 0; i < n; i++) s += p[i];
	return s;
}

static u32 rd32(const u8 *p) { return p[0] | p[1] << 8 | p[2] << 16 | (u32)p[3] << 24; }
static u64 rd64(const u8 *p) { return rd32(p) | (u64)rd32(p + 4) << 32; }

/* A table at addr: print its signature, check its checksum; returns it or 0. */
static const u8 *table(u64 addr) {
	const u8 *t = (const u8 *)addr;
	if (sum(t, rd32(t + 4))) {
		print("acpi: bad checksum\n");
		finish(3);
	}
	return t;
}

static void acpi(u64 rsdp_addr) {
	const u8 *rsdp = (const u8 *)rsdp_addr;
	if (!rsdp_addr || !same((const char *)rsdp, "RSD PTR ", 8) || sum(rsdp, 20) || sum(rsdp, 36)) {
		print("acpi: no valid RSDP\n");
		finish(3);
	}
	const u8 *xsdt = table(rd64(rsdp + 24));
	u32 entries = (rd32(xsdt + 4) - 36) / 8;
	for (u32 i = 0; i < entries; i++) {
		const u8 *t = table(rd64(xsdt + 36 + 8 * i));
		if (same((const char *)t, "APIC", 4)) {
			u32 cpus = 0;
			for (u32 at = 44; at < rd32(t + 4); at += t[at + 1])
				if (t[at] == 0) cpus++;
			print("acpi: MADT lists ");
			print_dec(cpus);
			print(" local APICs\n");
		} else if (same((const char *)t, "FACP", 4)) {
			print("acpi: FADT hardware-reduced ");
			print_dec((rd32(t + 112) >> 20) & 1);
			put('\n');
			const u8 *dsdt = table(rd64(t + 140));
			u32 devices = 0;
			for (u32 at = 36; at + 8 <= rd32(dsdt + 4); at++)
				if (same((const char *)dsdt + at, "LNRO0005", 8)) devices++;
			print("acpi: DSDT has ");
			print_dec(devices);
			print(" virtio-mmio devices\n");
		}
	}
}

void linux64_main(const u8 *boot_params) {
	outb(SERIAL + 3, 0x03);
	print("linux64: boot protocol ");
	u16 version = boot_params[0x206] | boot_params[0x207] << 8;
	print_dec(version >> 8);
	put('.');
	print_dec(version & 0xff);
	print(", loader ");
	print_hex(boot_params[0x210]);
	print(", cmdline \"");
	print((const char *)(u64)rd32(boot_params + 0x228));
	print("\"\n");
	u32 initrd = rd32(boot_params + 0x218), initrd_size = rd32(boot_params + 0x21c);
	if (initrd_size) {
		print("initrd ");
		print_dec(initrd_size);
		print(" bytes: ");
		for (u32 i = 0; i < initrd_size && i < 16; i++) put(((const char *)(u64)initrd)[i]);
		put('\n');
	}
	const struct e820 *map = (const struct e820 *)(boot_params + 0x2d0);
	for (u32 i = 0; i < boot_params[0x1e8]; i++) {
		print("e820 ");
		print_hex(map[i].addr);
		put(' ');
		print_hex(map[i].size);
		put(' ');
		print_dec(map[i].type);
		put('\n');
	}
	acpi(rd64(boot_params + 0x70));
	finish(PASS);
}
