/* Entry through Linux's 64-bit boot protocol: long mode, paging on with the loader's identity map,
 * RSI = boot_params. Take our own stack and call linux64_main(boot_params). */
	.code64
	.section .text.entry64, "ax"
	.globl start_linux64
start_linux64:
	leaq stack64_top(%rip), %rsp
	movq %rsi, %rdi
	call linux64_main
1:	cli
	hlt
	jmp 1b

	.section .bss.stack64, "aw", @nobits
	.align 16
	.space 16384
stack64_top:
