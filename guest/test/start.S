/* SPDX-License-Identifier: GPL-2.0-only */
/* Entry: long mode, paging on, rsi = zero page (64-bit boot protocol). */
	.section .text.start, "ax"
	.globl _start
_start:
	cli
	leaq stack_top(%rip), %rsp
	movq %rsi, %rbx		/* callee-saved across rt_init */
	movq %rbx, %rdi
	call rt_init
	movq %rbx, %rdi
	call guest_main
	call guest_poweroff
1:	hlt
	jmp 1b

	.section .bss
	.balign 16
	.space 65536
stack_top:
	.section .note.GNU-stack, "", @progbits
