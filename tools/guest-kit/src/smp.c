/* The SMP guest: vCPU 0 (entered through PVH) starts vCPU 1 with INIT, SIPI, SIPI through its local
 * APIC, as a PC's firmware and Linux do; vCPU 1 comes up in real mode at the trampoline, climbs to
 * long mode, prints its APIC ID over the 8250 and sets a flag; vCPU 0 waits for the flag and passes.
 * The 8250 is one device for both: vCPU 1 reads back the scratch register vCPU 0 wrote, and the two
 * take turns printing lines, which must reach the console in that order.
 * No interrupts are taken: the APs are started through the in-kernel LAPIC's ICR only. */
#include "kit.h"

#define LAPIC 0xfee00000ULL
#define LAPIC_SVR 0xf0
#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_HIGH 0x310
#define ICR_INIT 0x00004500
#define ICR_STARTUP 0x00004600
#define ICR_PENDING (1 << 12)
/* The trampoline's page: SIPI vector 0x10 starts the AP at 0x10000. */
#define AP_TRAMPOLINE 0x10000
#define AP_VECTOR (AP_TRAMPOLINE >> 12)

extern char ap_tramp_start[], ap_tramp_end[], ap_tramp_gdt[];
u32 ap_cr3;
static volatile u32 ap_started;
static volatile u32 ap_apic_id;
/* Whose line is next: vCPU 0 prints on even turns, vCPU 1 on odd ones. */
static volatile u32 turn;
#define TURNS 6
#define SCRATCH_VALUE 0x5a

static inline void lapic_write(u32 reg, u32 value) { *(volatile u32 *)(LAPIC + reg) = value; }
static inline u32 lapic_read(u32 reg) { return *(volatile u32 *)(LAPIC + reg); }

static void send_ipi(u32 apic_id, u32 command) {
	lapic_write(LAPIC_ICR_HIGH, apic_id << 24);
	lapic_write(LAPIC_ICR_LOW, command);
	while (lapic_read(LAPIC_ICR_LOW) & ICR_PENDING)
		;
}

static u32 my_apic_id(void) {
	u32 a = 1, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return b >> 24;
}

void ap_main(void) {
	ap_apic_id = my_apic_id();
	print("hello from vCPU ");
	print_dec(ap_apic_id);
	put('\n');
	print("vCPU 1 reads the scratch register: ");
	print_dec(inb(SERIAL + 7));
	put('\n');
	ap_started = 1;
	for (u32 t = 1; t < TURNS; t += 2) {
		while (turn != t)
			__asm__ volatile("pause");
		print("pong from vCPU 1\n");
		turn = t + 1;
	}
}

void guest_main(const void *start_info) {
	(void)start_info;
	print("smp: vCPU ");
	print_dec(my_apic_id());
	print(" starts vCPU 1\n");
	for (char *from = ap_tramp_start, *to = (char *)AP_TRAMPOLINE; from < ap_tramp_end;) *to++ = *from++;
	__asm__ volatile("sgdt %0" : "=m"(*(char(*)[10])(AP_TRAMPOLINE + (ap_tramp_gdt - ap_tramp_start))));
	u64 cr3;
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	ap_cr3 = (u32)cr3;
	outb(SERIAL + 7, SCRATCH_VALUE);
	lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | 0x100); /* software-enable the APIC */
	send_ipi(1, ICR_INIT);
	send_ipi(1, ICR_STARTUP | AP_VECTOR);
	for (u64 spin = 0; !ap_started; spin++) {
		/* A second SIPI, as the MP spec asks, if the first was not taken. */
		if (spin == 20000) send_ipi(1, ICR_STARTUP | AP_VECTOR);
		if (spin == 5000000) {
			print("smp: vCPU 1 did not start\n");
			finish(1);
		}
	}
	print("smp: vCPU 1 is up (APIC ID ");
	print_dec(ap_apic_id);
	print(")\n");
	for (u32 t = 0; t < TURNS; t += 2) {
		print("ping from vCPU 0\n");
		turn = t + 1;
		while (turn != t + 2)
			__asm__ volatile("pause");
	}
	finish(ap_apic_id == 1 ? PASS : 2);
}
