/* The CPU-bound loop `isola compare` times: the same machine code runs on the host, in a container
 * (linked into loop.c's static binary) and in the VM (linked into guest.c's PVH ELF).
 * u64 spin_timed(u64 iterations): runs `dec; jnz` that many times and returns the TSC cycles it took. */
	.text
	.globl spin_timed
spin_timed:
	mov %rdi, %rcx
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	mov %rdx, %r8
	test %rcx, %rcx
	jz 2f
1:	dec %rcx
	jnz 1b
2:	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	sub %r8, %rax
	ret
	.section .note.GNU-stack, "", @progbits
