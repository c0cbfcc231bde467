/* `isola compare`'s host/container side of the CPU loop: a static Linux binary without libc.
 * `loop N [R]` times spin_timed(N) (spin.S, the same code the VM guest runs) R times (default 1) and
 * prints the fastest as "loop N tsc T ns NS": TSC cycles, and CLOCK_MONOTONIC nanoseconds to turn
 * cycles into time. The fastest, because a sub-millisecond loop on a shared host is often preempted. */
typedef unsigned long long u64;

u64 spin_timed(u64 iterations);

static long sys3(long nr, long a, long b, long c) {
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

struct timespec64 { long sec, nsec; };

static u64 now_ns(void) {
	struct timespec64 ts;
	sys3(228 /* clock_gettime */, 1 /* CLOCK_MONOTONIC */, (long)&ts, 0);
	return (u64)ts.sec * 1000000000ull + (u64)ts.nsec;
}

static u64 parse_dec(const char *p) {
	u64 n = 0;
	for (; *p >= '0' && *p <= '9'; p++) n = n * 10 + (u64)(*p - '0');
	return n;
}

static char *put_dec(char *out, u64 v) {
	char buf[24];
	int n = 0;
	do buf[n++] = (char)('0' + v % 10), v /= 10; while (v);
	while (n) *out++ = buf[--n];
	return out;
}

static char *put_str(char *out, const char *s) {
	while (*s) *out++ = *s++;
	return out;
}

void loop_main(long *stack) {
	long argc = stack[0];
	char **argv = (char **)(stack + 1);
	u64 n = argc > 1 ? parse_dec(argv[1]) : 0;
	u64 runs = argc > 2 ? parse_dec(argv[2]) : 1;
	u64 cycles = ~0ull, ns = 0;
	for (u64 i = 0; i < runs || i == 0; i++) {
		u64 start = now_ns();
		u64 took = spin_timed(n);
		u64 elapsed = now_ns() - start;
		if (took < cycles) cycles = took, ns = elapsed;
	}
	char line[96], *end = line;
	end = put_str(end, "loop ");
	end = put_dec(end, n);
	end = put_str(end, " tsc ");
	end = put_dec(end, cycles);
	end = put_str(end, " ns ");
	end = put_dec(end, ns);
	*end++ = '\n';
	sys3(1 /* write */, 1, (long)line, end - line);
	sys3(60 /* exit */, 0, 0, 0);
}

__asm__(".globl _start\n_start:\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall loop_main\n\thlt\n");
