/* Flat-binary entry: the monitor loads the image at 0x8000 and starts it in real mode with CS = 0,
 * IP = 0x8000. Switch to 32-bit protected mode and join the PVH path with no start_info (EBX = 0). */
	.code16
	.section .text.entry16, "ax"
	.globl _start16
_start16:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl gdt_descriptor
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x18, $flat32

	.code32
flat32:
	xorl %ebx, %ebx
	jmp start32
