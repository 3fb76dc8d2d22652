/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Entry: long mode, paging on, rsi = zero page (64-bit boot protocol). The
 * hypervisor starts every vCPU of an ELF guest here; each takes the stack
 * its APIC id selects. vCPU 0 runs guest_main, the others guest_ap_main.
 */
#define STACK_SIZE 16384
#define MAX_VCPUS 8

	.section .text.start, "ax"
	.globl _start
_start:
	cli
	movq %rsi, %r12			/* zero page; callee-saved */
	movl $1, %eax
	cpuid
	shrl $24, %ebx			/* initial APIC id = vCPU index */
	cmpl $MAX_VCPUS, %ebx
	jae halt
	movl %ebx, %r13d
	leaq stacks(%rip), %rsp
	leal 1(%ebx), %eax
	imull $STACK_SIZE, %eax
	addq %rax, %rsp
	testl %r13d, %r13d
	jnz ap
	movq %r12, %rdi
	call rt_init
	movq %r12, %rdi
	call guest_main
	call guest_poweroff
ap:
	movl %r13d, %edi
	call guest_ap_main
halt:
	cli
	hlt
	jmp halt

	.section .bss
	.balign 16
stacks:
	.space STACK_SIZE * MAX_VCPUS
	.section .note.GNU-stack, "", @progbits
