/* What the guests beyond guest.c share: port I/O, the 8250 at 0x3f8 and the debug-exit port. Static
 * inline, so each guest is still one translation unit plus its entry code. */
#ifndef GUEST_KIT_H
#define GUEST_KIT_H
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define SERIAL 0x3f8
#define DEBUG_EXIT 0x501
#define PASS 42

static inline void outb(u16 port, u8 value) { __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port)); }
static inline u8 inb(u16 port) {
	u8 value;
	__asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
	return value;
}
static inline void put(char c) {
	while (!(inb(SERIAL + 5) & 0x20))
		;
	outb(SERIAL, (u8)c);
}
static inline void print(const char *s) {
	while (*s) put(*s++);
}
static inline void print_hex(u64 v) {
	print("0x");
	for (int shift = 60; shift >= 0; shift -= 4) put("0123456789abcdef"[(v >> shift) & 0xf]);
}
static inline void print_dec(u64 v) {
	char buf[24];
	int n = 0;
	do buf[n++] = (char)('0' + v % 10), v /= 10; while (v);
	while (n) put(buf[--n]);
}
static inline void finish(u8 status) {
	outb(DEBUG_EXIT, status);
	for (;;) __asm__ volatile("hlt");
}
static inline int same(const char *a, const char *b, int n) {
	for (int i = 0; i < n; i++)
		if (a[i] != b[i]) return 0;
	return 1;
}
#endif
