/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * miniguest: a freestanding test guest for the toolstack tests, small
 * enough to run fast even where /dev/kvm emulates guests. bulkhead-hv
 * enters it in 64-bit mode with the first 4 GiB identity-mapped.
 *
 * It prints "miniguest: up" on COM1, then sleeps on a 10 ms LAPIC timer
 * and on each tick serves its two inputs:
 *   COM1: 'p' powers off (ACPI S5), 'r' resets (ACPI reset register),
 *         'c' crashes (triple fault), 'i' prints "miniguest: alive N",
 *         anything else is echoed back.
 *         'R' makes Ctrl-Alt-Del reset instead of power off, like a
 *         guest whose init reboots on Ctrl-Alt-Del; 'I' makes it ignore
 *         Ctrl-Alt-Del, like a hung guest.
 *   i8042: the Delete make code of Ctrl-Alt-Del (the host's clean
 *         shutdown request) prints "miniguest: ctrl-alt-del" and powers
 *         off (or resets, after 'R').
 */
	.code64
	.section .text
	.globl _start
_start:
	cli
	/* The hypervisor starts every vCPU here: all but vCPU 0 (initial
	 * APIC id 0) park at once, before touching the one stack. */
	mov	$1, %eax
	cpuid
	shr	$24, %ebx
	jnz	halt_forever
	lea	stack_top(%rip), %rsp

	/* IDT: the timer vector and the spurious vector; anything else
	 * triple-faults, which is what 'c' wants. */
	lea	timer_isr(%rip), %rax
	mov	$0x40, %edi
	call	set_gate
	lea	spurious_isr(%rip), %rax
	mov	$0xff, %edi
	call	set_gate
	lidt	idt_desc(%rip)

	/* Legacy interrupts would arrive through the 8259 on vectors nobody
	 * set up: mask both PICs and the LAPIC's ExtINT input. */
	mov	$0xff, %al
	outb	%al, $0x21
	outb	%al, $0xa1

	/* LAPIC (xAPIC at 0xfee00000): enable, periodic timer, vector 0x40. */
	mov	$0xfee00000, %rbx
	movl	$0x1ff, 0xf0(%rbx)		/* SVR: enable, spurious 0xff */
	movl	$0x10000, 0x350(%rbx)		/* LVT LINT0: masked */
	movl	$0x3, 0x3e0(%rbx)		/* divide by 16 */
	movl	$0x20040, 0x320(%rbx)		/* LVT timer: periodic, 0x40 */
	movl	$625000, 0x380(%rbx)		/* 10 ms at KVM's 1 GHz bus */

	lea	msg_up(%rip), %rsi
	call	puts

main_loop:
	sti
	hlt
	cli
	/* Serial input: LSR bit 0 is "data ready". */
1:	mov	$0x3fd, %dx
	inb	%dx, %al
	test	$1, %al
	jz	2f
	mov	$0x3f8, %dx
	inb	%dx, %al
	call	serial_command
	jmp	1b
	/* Keyboard controller: status bit 0 is "output buffer full". */
2:	mov	$0x64, %dx
	inb	%dx, %al
	test	$1, %al
	jz	main_loop
	mov	$0x60, %dx
	inb	%dx, %al
	cmp	$0x53, %al			/* Delete, make code */
	jne	2b
	lea	msg_cad(%rip), %rsi
	call	puts
	cmpb	$2, reboot_on_cad(%rip)
	je	2b				/* 'I': ignored */
	cmpb	$0, reboot_on_cad(%rip)
	jne	reset
	jmp	poweroff

/* al = the byte received */
serial_command:
	cmp	$'p', %al
	je	poweroff
	cmp	$'r', %al
	je	reset
	cmp	$'c', %al
	je	crash
	cmp	$'R', %al
	je	set_reboot_on_cad
	cmp	$'i', %al
	je	alive
	cmp	$'I', %al
	je	set_ignore_cad
	call	putc
	ret
set_ignore_cad:
	movb	$2, reboot_on_cad(%rip)
	lea	msg_icad(%rip), %rsi
	jmp	puts
set_reboot_on_cad:
	movb	$1, reboot_on_cad(%rip)
	lea	msg_rcad(%rip), %rsi
	jmp	puts
alive:
	lea	msg_alive(%rip), %rsi
	call	puts
	mov	ticks(%rip), %rax
	call	putdec
	mov	$'\n', %al
	jmp	putc

poweroff:
	lea	msg_off(%rip), %rsi
	call	puts
	mov	$0x604, %dx
	mov	$0x3400, %ax			/* SLP_TYP 5 (\_S5) | SLP_EN */
	outw	%ax, %dx
	jmp	halt_forever
reset:
	lea	msg_reset(%rip), %rsi
	call	puts
	mov	$0x608, %dx
	mov	$0x0f, %al
	outb	%al, %dx
	jmp	halt_forever
crash:
	lea	msg_crash(%rip), %rsi
	call	puts
	lidt	null_idt(%rip)
	int3					/* no IDT: triple fault */
halt_forever:
	cli
	hlt
	jmp	halt_forever

/* Writes the NUL-terminated string at rsi to COM1. */
puts:
	lodsb
	test	%al, %al
	jz	1f
	call	putc
	jmp	puts
1:	ret

/* Writes al to COM1, waiting for the transmit holding register. */
putc:
	push	%rax
	mov	$0x3fd, %dx
1:	inb	%dx, %al
	test	$0x20, %al
	jz	1b
	pop	%rax
	mov	$0x3f8, %dx
	outb	%al, %dx
	ret

/* Writes rax in decimal to COM1. */
putdec:
	lea	numbuf_end(%rip), %rdi
	movb	$0, (%rdi)
	mov	$10, %rcx
1:	xor	%rdx, %rdx
	div	%rcx
	add	$'0', %dl
	dec	%rdi
	mov	%dl, (%rdi)
	test	%rax, %rax
	jnz	1b
	mov	%rdi, %rsi
	jmp	puts

/* Installs the interrupt gate for vector edi to the handler at rax. */
set_gate:
	lea	idt(%rip), %rsi
	shl	$4, %rdi
	add	%rdi, %rsi
	mov	%ax, (%rsi)			/* offset 15:0 */
	mov	%cs, %cx
	mov	%cx, 2(%rsi)			/* selector */
	movw	$0x8e00, 4(%rsi)		/* present, DPL 0, interrupt gate */
	shr	$16, %rax
	mov	%ax, 6(%rsi)			/* offset 31:16 */
	shr	$16, %rax
	mov	%eax, 8(%rsi)			/* offset 63:32 */
	movl	$0, 12(%rsi)
	ret

timer_isr:
	incq	ticks(%rip)
	push	%rax
	mov	$0xfee000b0, %rax
	movl	$0, (%rax)			/* EOI */
	pop	%rax
	iretq
spurious_isr:
	iretq

	.section .rodata
msg_up:		.asciz "miniguest: up\n"
msg_cad:	.asciz "miniguest: ctrl-alt-del\n"
msg_rcad:	.asciz "miniguest: will reboot on ctrl-alt-del\n"
msg_icad:	.asciz "miniguest: will ignore ctrl-alt-del\n"
msg_alive:	.asciz "miniguest: alive "
msg_off:	.asciz "miniguest: powering off\n"
msg_reset:	.asciz "miniguest: resetting\n"
msg_crash:	.asciz "miniguest: crashing\n"
	.balign 16
idt_desc:	.word 256 * 16 - 1
		.quad idt
null_idt:	.word 0
		.quad 0

	.section .bss
	.balign 16
idt:		.skip 256 * 16
ticks:		.skip 8
reboot_on_cad:	.skip 1
numbuf:		.skip 32
numbuf_end:	.skip 1
	.balign 16
		.skip 8192
stack_top:
