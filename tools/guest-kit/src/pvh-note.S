/* XEN_ELFNOTE_PHYS32_ENTRY (18): where a PVH loader enters the image in 32-bit protected mode. */
	.section .note.Xen, "a"
	.align 4
	.long 4          /* namesz: "Xen\0" */
	.long 4          /* descsz */
	.long 18         /* type */
	.asciz "Xen"
	.align 4
	.long start32
	.align 4
