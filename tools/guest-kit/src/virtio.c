/* The virtio variant of the guest kit (included by guest.c under GUEST_VIRTIO, after its serial helpers):
 * a polling virtio-mmio driver, version 2 transport, one 8-entry split queue per device. It finds the
 * transports in the fixed layout from 0xd0000000 (4 KiB apart, first non-"virt" window ends the list),
 * then on the first virtio-blk disk: reads sector 0, writes 0xa5 over sectors 1-2, flushes, reads them
 * back, asks for the ID, reads past the end; writes to a second, read-only disk; reads virtio-rng; and
 * finally feeds the disk a descriptor loop, expects DEVICE_NEEDS_RESET, resets and reads again.
 * Each step prints one line the test compares. Interrupts stay off: completion is polled. */
#define VIRTIO_MMIO_BASE 0xd0000000ULL
#define VIRTIO_MMIO_MAX 8
#define REG(base, off) (*(volatile u32 *)((base) + (off)))
#define R_MAGIC 0x000
#define R_DEVICE_ID 0x008
#define R_DEVICE_FEATURES 0x010
#define R_DEVICE_FEATURES_SEL 0x014
#define R_DRIVER_FEATURES 0x020
#define R_DRIVER_FEATURES_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_INTERRUPT_STATUS 0x060
#define R_INTERRUPT_ACK 0x064
#define R_STATUS 0x070
#define R_QUEUE_DESC 0x080
#define R_QUEUE_DRIVER 0x090
#define R_QUEUE_DEVICE 0x0a0
#define R_CONFIG 0x100
#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 0x40
#define F_NEXT 1
#define F_WRITE 2
#define BLK_F_RO (1u << 5)
#define BLK_F_FLUSH (1u << 9)
#define BLK_IN 0
#define BLK_OUT 1
#define BLK_FLUSH 4
#define BLK_GET_ID 8
#define QSIZE 8
#define barrier() __asm__ volatile("" : : : "memory")

struct vdesc {
	u64 addr;
	u32 len;
	u16 flags, next;
};
struct vq {
	u64 base;
	struct vdesc desc[QSIZE] __attribute__((aligned(16)));
	struct {
		u16 flags, idx, ring[QSIZE], event;
	} avail __attribute__((aligned(16)));
	struct {
		u16 flags;
		volatile u16 idx;
		struct {
			u32 id, len;
		} ring[QSIZE];
		u16 event;
	} used __attribute__((aligned(16)));
	u16 seen;
};
struct blk_header {
	u32 type, reserved;
	u64 sector;
};

/* Not every variant uses every queue and buffer. */
#define MAYBE_UNUSED __attribute__((unused))
static struct vq blk_q, ro_q MAYBE_UNUSED, rng_q MAYBE_UNUSED;
static struct blk_header header;
static u8 status_byte;
static u8 buf[1024] MAYBE_UNUSED __attribute__((aligned(16)));
#if defined(GUEST_VBLKBENCH)
static u8 bench_buf[4096] __attribute__((aligned(4096)));
#endif

static void fail(const char *why) {
	print("FAIL ");
	print(why);
	put('\n');
	finish(1);
}

/* 3.1.1: reset, ACKNOWLEDGE, DRIVER, features (VERSION_1 plus `want` of the low word), FEATURES_OK,
 * queue 0, DRIVER_OK. Returns the low feature word the device offered. */
static u32 vdev_init(struct vq *q, u64 base, u32 want) {
	q->base = base;
	q->seen = 0;
	q->avail.idx = 0;
	q->used.idx = 0;
	REG(base, R_STATUS) = 0;
	REG(base, R_STATUS) = S_ACK;
	REG(base, R_STATUS) = S_ACK | S_DRIVER;
	REG(base, R_DEVICE_FEATURES_SEL) = 0;
	u32 offered = REG(base, R_DEVICE_FEATURES);
	REG(base, R_DRIVER_FEATURES_SEL) = 0;
	REG(base, R_DRIVER_FEATURES) = offered & want;
	REG(base, R_DRIVER_FEATURES_SEL) = 1;
	REG(base, R_DRIVER_FEATURES) = 1; /* VERSION_1 */
	REG(base, R_STATUS) = S_ACK | S_DRIVER | S_FEATURES_OK;
	if (!(REG(base, R_STATUS) & S_FEATURES_OK)) fail("FEATURES_OK refused");
	REG(base, R_QUEUE_SEL) = 0;
	if (REG(base, R_QUEUE_NUM_MAX) < QSIZE) fail("queue too small");
	REG(base, R_QUEUE_NUM) = QSIZE;
	REG(base, R_QUEUE_DESC) = (u32)(u64)q->desc;
	REG(base, R_QUEUE_DESC + 4) = 0;
	REG(base, R_QUEUE_DRIVER) = (u32)(u64)&q->avail;
	REG(base, R_QUEUE_DRIVER + 4) = 0;
	REG(base, R_QUEUE_DEVICE) = (u32)(u64)&q->used;
	REG(base, R_QUEUE_DEVICE + 4) = 0;
	REG(base, R_QUEUE_READY) = 1;
	REG(base, R_STATUS) = S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK;
	return offered;
}

static void desc(struct vq *q, int i, void *addr, u32 len, u16 flags) {
	q->desc[i].addr = (u64)addr;
	q->desc[i].len = len;
	q->desc[i].flags = flags;
	q->desc[i].next = (u16)(i + 1);
}

/* Offers the chain at descriptor 0, notifies and polls for the used entry; returns its length. */
static u32 vq_run(struct vq *q) {
	q->avail.ring[q->avail.idx % QSIZE] = 0;
	barrier();
	q->avail.idx++;
	barrier();
	REG(q->base, R_QUEUE_NOTIFY) = 0;
	while (q->used.idx == q->seen) barrier();
	return q->used.ring[q->seen++ % QSIZE].len;
}

static u8 blk_request(struct vq *q, u32 type, u64 sector, void *data, u32 len, int device_writes) {
	header.type = type;
	header.sector = sector;
	status_byte = 0xee;
	int n = 0;
	desc(q, n++, &header, sizeof header, F_NEXT);
	if (len) desc(q, n++, data, len, F_NEXT | (device_writes ? F_WRITE : 0));
	desc(q, n++, &status_byte, 1, F_WRITE);
	vq_run(q);
	return status_byte;
}

#if defined(GUEST_VIRTIO)
/* One interrupt, taken for real: the first transport's line is GSI 5 (isola's fixed layout). The I/O
 * APIC routes it to vector 0x30 on this CPU; the 8259s are masked so nothing else arrives. */
#define IOAPIC 0xfec00000ULL
#define LAPIC 0xfee00000ULL
#define VIRTIO_VECTOR 0x30
#define VIRTIO_GSI 5
struct interrupt_frame;
struct idt_entry {
	u16 offset_lo, selector;
	u8 ist, type;
	u16 offset_mid;
	u32 offset_hi, zero;
};
static struct idt_entry idt[256] __attribute__((aligned(16)));
static volatile u32 irq_count, irq_status;
static u64 irq_device;

__attribute__((interrupt)) static void virtio_isr(struct interrupt_frame *frame) {
	(void)frame;
	u32 status = REG(irq_device, R_INTERRUPT_STATUS);
	REG(irq_device, R_INTERRUPT_ACK) = status;
	irq_status |= status;
	irq_count++;
	*(volatile u32 *)(LAPIC + 0xb0) = 0; /* EOI */
}

static void ioapic_write(u32 reg, u32 value) {
	*(volatile u32 *)IOAPIC = reg;
	*(volatile u32 *)(IOAPIC + 0x10) = value;
}

static void interrupts_on(u64 device) {
	irq_device = device;
	u64 handler = (u64)virtio_isr;
	idt[VIRTIO_VECTOR] = (struct idt_entry){(u16)handler, 0x08, 0, 0x8e, (u16)(handler >> 16), (u32)(handler >> 32), 0};
	struct {
		u16 limit;
		u64 base;
	} __attribute__((packed)) idtr = {sizeof idt - 1, (u64)idt};
	__asm__ volatile("lidt %0" : : "m"(idtr));
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	*(volatile u32 *)(LAPIC + 0xf0) |= 0x100; /* software-enable the local APIC */
	ioapic_write(0x10 + 2 * VIRTIO_GSI + 1, 0);  /* destination: APIC ID 0 */
	ioapic_write(0x10 + 2 * VIRTIO_GSI, VIRTIO_VECTOR); /* fixed, edge, active high, unmasked */
}

/* Like vq_run, but sleeps in HLT until the device's interrupt says the request is done. */
static void vq_run_irq(struct vq *q) {
	q->avail.ring[q->avail.idx % QSIZE] = 0;
	barrier();
	q->avail.idx++;
	barrier();
	u32 before = irq_count;
	REG(q->base, R_QUEUE_NOTIFY) = 0;
	for (;;) {
		__asm__ volatile("cli");
		if (irq_count != before) break;
		__asm__ volatile("sti; hlt" : : : "memory");
	}
	__asm__ volatile("sti; nop; cli");
	q->seen++;
}

static void print_bytes(const u8 *p, int n) {
	for (int i = 0; i < n; i++) {
		put("0123456789abcdef"[p[i] >> 4]);
		put("0123456789abcdef"[p[i] & 15]);
	}
}

static void virtio_test(void) {
	u64 blk[2] = {0, 0}, rng = 0;
	int disks = 0;
	for (int i = 0; i < VIRTIO_MMIO_MAX; i++) {
		u64 base = VIRTIO_MMIO_BASE + (u64)i * 0x1000;
		if (REG(base, R_MAGIC) != 0x74726976) break;
		u32 id = REG(base, R_DEVICE_ID);
		print("virtio ");
		print_hex(base);
		print(" device ");
		print_dec(id);
		put('\n');
		if (id == 2 && disks < 2) blk[disks++] = base;
		if (id == 4) rng = base;
	}
	if (!blk[0]) fail("no virtio-blk");

	vdev_init(&blk_q, blk[0], BLK_F_FLUSH);
	u64 capacity = REG(blk[0], R_CONFIG) | (u64)REG(blk[0], R_CONFIG + 4) << 32;
	print("capacity ");
	print_dec(capacity);
	put('\n');

	if (blk_request(&blk_q, BLK_IN, 0, buf, 512, 1) != 0) fail("read sector 0");
	print("sector 0 ");
	print_bytes(buf, 16);
	put('\n');
	u32 irq = REG(blk[0], R_INTERRUPT_STATUS);
	REG(blk[0], R_INTERRUPT_ACK) = irq;
	print("interrupt status ");
	print_dec(irq);
	print(" then ");
	print_dec(REG(blk[0], R_INTERRUPT_STATUS));
	put('\n');

	for (int i = 0; i < 1024; i++) buf[i] = 0xa5;
	if (blk_request(&blk_q, BLK_OUT, 1, buf, 1024, 0) != 0) fail("write sectors 1-2");
	if (blk_request(&blk_q, BLK_FLUSH, 0, 0, 0, 0) != 0) fail("flush");
	for (int i = 0; i < 1024; i++) buf[i] = 0;
	if (blk_request(&blk_q, BLK_IN, 1, buf, 1024, 1) != 0) fail("read sectors 1-2");
	for (int i = 0; i < 1024; i++)
		if (buf[i] != 0xa5) fail("sectors 1-2 read back wrong");
	print("wrote, flushed and read back sectors 1-2\n");

	interrupts_on(blk[0]);
	header.type = BLK_IN;
	header.sector = 1;
	status_byte = 0xee;
	buf[0] = 0;
	desc(&blk_q, 0, &header, sizeof header, F_NEXT);
	desc(&blk_q, 1, buf, 512, F_NEXT | F_WRITE);
	desc(&blk_q, 2, &status_byte, 1, F_WRITE);
	vq_run_irq(&blk_q);
	print("interrupt: ");
	print_dec(irq_count);
	print(" on vector 0x30, status ");
	print_dec(irq_status);
	print(", read ");
	print_dec(status_byte == 0 && buf[0] == 0xa5);
	put('\n');

	for (int i = 0; i < 21; i++) buf[i] = 0;
	if (blk_request(&blk_q, BLK_GET_ID, 0, buf, 20, 1) != 0) fail("get id");
	print("id ");
	print((const char *)buf);
	put('\n');
	print("read past the end: status ");
	print_dec(blk_request(&blk_q, BLK_IN, capacity, buf, 512, 1));
	put('\n');

	if (blk[1]) {
		u32 offered = vdev_init(&ro_q, blk[1], BLK_F_RO);
		print("second disk read-only ");
		print_dec((offered & BLK_F_RO) != 0);
		print(", write status ");
		print_dec(blk_request(&ro_q, BLK_OUT, 0, buf, 512, 0));
		put('\n');
	}

	if (rng) {
		vdev_init(&rng_q, rng, 0);
		for (int i = 0; i < 16; i++) buf[i] = 0;
		desc(&rng_q, 0, buf, 16, F_WRITE);
		u32 got = vq_run(&rng_q);
		int nonzero = 0;
		for (int i = 0; i < 16; i++) nonzero |= buf[i];
		print("rng ");
		print_dec(got);
		print(" bytes, ");
		print(nonzero ? "not all zero\n" : "all zero\n");
	}

	/* A descriptor that links to itself: the device must refuse it, not hang or crash. */
	desc(&blk_q, 0, buf, 16, F_NEXT);
	blk_q.desc[0].next = 0;
	blk_q.avail.ring[blk_q.avail.idx % QSIZE] = 0;
	barrier();
	blk_q.avail.idx++;
	REG(blk[0], R_QUEUE_NOTIFY) = 0;
	while (!(REG(blk[0], R_STATUS) & S_NEEDS_RESET)) barrier();
	print("descriptor loop: needs reset, interrupt status ");
	print_dec(REG(blk[0], R_INTERRUPT_STATUS));
	put('\n');
	vdev_init(&blk_q, blk[0], BLK_F_FLUSH);
	if (blk_request(&blk_q, BLK_IN, 1, buf, 512, 1) != 0 || buf[0] != 0xa5) fail("read after reset");
	print("reset: reads again\n");
}
#endif

#if defined(GUEST_VBLKBENCH)
/* bench/vmm/virtio-blk.mjs: BENCH_READS 4 KiB reads of the first virtio-blk disk, one at a time, between
 * a "start" and a "done" line. It looks in isola's layout and in QEMU microvm's (24 transports of 512
 * bytes from 0xfeb00000; unused ones read as device 0), so one guest runs under both monitors. */
#define BENCH_READS 5000
static u64 find_blk(void) {
	for (int i = 0; i < VIRTIO_MMIO_MAX; i++) {
		u64 base = VIRTIO_MMIO_BASE + (u64)i * 0x1000;
		if (REG(base, R_MAGIC) != 0x74726976) break;
		if (REG(base, R_DEVICE_ID) == 2) return base;
	}
	for (int i = 0; i < 24; i++) {
		u64 base = 0xfeb00000ULL + (u64)i * 0x200;
		if (REG(base, R_MAGIC) == 0x74726976 && REG(base, R_DEVICE_ID) == 2) return base;
	}
	return 0;
}

static void virtio_bench(void) {
	u64 base = find_blk();
	if (!base) fail("no virtio-blk");
	vdev_init(&blk_q, base, 0);
	u64 sectors = REG(base, R_CONFIG) | (u64)REG(base, R_CONFIG + 4) << 32;
	if (sectors < 8) fail("disk too small");
	print("start\n");
	for (u32 i = 0; i < BENCH_READS; i++)
		if (blk_request(&blk_q, BLK_IN, (i * 8) % (sectors - 7), bench_buf, 4096, 1) != 0) fail("read");
	print("done\n");
}
#endif
