/* The application processors' start: real-mode code the boot vCPU copies to AP_TRAMPOLINE (a page
 * below 1 MiB; the SIPI vector is its page number), entered with CS = vector << 8, IP = 0. It loads
 * the GDT the boot vCPU patched into ap_tramp_gdt, enters protected mode and jumps to ap32 in the
 * image, which turns on long mode with the boot vCPU's page tables (ap_cr3) and calls ap_main. */
	.code16
	.section .rodata.ap, "a"
	.globl ap_tramp_start, ap_tramp_end, ap_tramp_gdt
ap_tramp_start:
	cli
	movw %cs, %ax
	movw %ax, %ds
	lgdtl ap_tramp_gdt - ap_tramp_start
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x18, $ap32
	.align 8
ap_tramp_gdt:
	.word 0
	.long 0
ap_tramp_end:

	.code32
	.section .text.ap32, "ax"
ap32:
	movl $0x20, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl ap_cr3, %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $0x20, %eax            /* PAE */
	movl %eax, %cr4
	movl $0xc0000080, %ecx     /* EFER */
	rdmsr
	orl $0x100, %eax           /* LME */
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax      /* PG, PE */
	movl %eax, %cr0
	ljmpl $0x08, $ap64

	.code64
ap64:
	movl $0x20, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	leaq ap_stack_top(%rip), %rsp
	call ap_main
1:	cli
	hlt
	jmp 1b

	.section .bss.apstack, "aw", @nobits
	.align 16
	.space 8192
ap_stack_top:
