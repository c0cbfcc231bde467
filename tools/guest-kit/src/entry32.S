/* 32-bit entry, as the PVH boot ABI enters: protected mode, paging off, flat segments, EBX = the
 * physical address of hvm_start_info (0 from the flat entry). Load our own GDT (the ABI lets GDTR be
 * invalid), turn on 4-level paging with an identity map of the first 4 GiB (RAM and the MMIO hole) in
 * 2 MiB pages (1 GiB pages shut the guest down on PVM hosts), enter long mode and call
 * guest_main(start_info). */
	.code32
	.section .text.entry32, "ax"
	.globl start32
start32:
	lgdtl gdt_descriptor
	ljmpl $0x18, $1f
1:	movl $0x20, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movl %ebx, %esi
	movl $pml4, %eax
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
	ljmpl $0x08, $start64

	.code64
start64:
	movl $0x20, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	leaq stack_top(%rip), %rsp
	movl %esi, %edi
	call guest_main
2:	hlt
	jmp 2b

	.section .data.boot, "aw"
	.align 16
gdt:
	.quad 0
	.quad 0x00af9a000000ffff   /* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff   /* 0x10: data */
	.quad 0x00cf9a000000ffff   /* 0x18: 32-bit code */
	.quad 0x00cf92000000ffff   /* 0x20: data */
gdt_end:
	.globl gdt_descriptor
gdt_descriptor:
	.word gdt_end - gdt - 1
	.long gdt

	.section .data.pagetables, "aw"
	.align 4096
pml4:
	.quad pdpt + 0x3
	.fill 511, 8, 0
pdpt:
	.quad pd + 0x3
	.quad pd + 0x1003
	.quad pd + 0x2003
	.quad pd + 0x3003
	.fill 508, 8, 0
pd:
	.set i, 0
	.rept 2048
	.quad (i << 21) | 0x83
	.set i, i + 1
	.endr

	.section .bss.stack, "aw", @nobits
	.align 16
	.space 16384
stack_top:
