/* ctx_x86_64.S - task context switch for x86-64 System V.
 *
 * void cio__ctx_switch(void **from_sp, void *to_sp)
 *
 * Saves the callee-saved registers on the current stack, stores the stack
 * pointer in *from_sp, loads to_sp and restores the registers saved there.
 * The floating-point control words (MXCSR, x87 CW) are not switched: tasks
 * must not change them across a suspension (documented in ARCHITECTURE.md).
 */
        .text
        .globl  cio__ctx_switch
        .hidden cio__ctx_switch
        .type   cio__ctx_switch, @function
        .p2align 4
cio__ctx_switch:
        .cfi_startproc
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        ret
        .cfi_endproc
        .size   cio__ctx_switch, .-cio__ctx_switch

/* First "return" of a new task lands here with a 16-byte aligned stack. The
 * undefined return address ends unwinding (debuggers, task dumps) here. */
        .globl  cio__ctx_trampoline
        .hidden cio__ctx_trampoline
        .type   cio__ctx_trampoline, @function
        .p2align 4
cio__ctx_trampoline:
        .cfi_startproc
        .cfi_undefined rip
        xorl    %ebp, %ebp
        call    cio__task_entry
        ud2
        .cfi_endproc
        .size   cio__ctx_trampoline, .-cio__ctx_trampoline

        .section .note.GNU-stack,"",@progbits
