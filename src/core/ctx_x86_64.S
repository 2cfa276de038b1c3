/* ctx_x86_64.S - task context switch for x86-64 System V.
 *
 * void cio__ctx_switch(void **from_sp, void *to_sp)
 *
 * Saves the callee-saved registers on the current stack, stores the stack
 * pointer in *from_sp, loads to_sp and restores the registers saved there.
 * The floating-point control words (MXCSR, x87 CW) are not switched: tasks
 * must not change them across a suspension (documented in ARCHITECTURE.md).
 */
/* The frame every saved context has (cio__ctx_peek_on_task's CFI reads it):
 * rbp rbx r12 r13 r14 r15 pushed in this order under the return address. */
        .macro SAVE_CALLEE_SAVED
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        .endm

        .text
        .globl  cio__ctx_switch
        .hidden cio__ctx_switch
        .type   cio__ctx_switch, @function
        .p2align 4
cio__ctx_switch:
        .cfi_startproc
        SAVE_CALLEE_SAVED
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

/* void cio__ctx_peek_switch(void **save_sp, void *to_sp, void (*fn)(void *), void *arg)
 *
 * Task dumps: save the running context as cio__ctx_switch does, move onto
 * the stack of a suspended context (to_sp, as saved by cio__ctx_switch) and
 * call fn(arg) there, then switch back. The suspended frame is only read. */
        .globl  cio__ctx_peek_switch
        .hidden cio__ctx_peek_switch
        .type   cio__ctx_peek_switch, @function
        .p2align 4
cio__ctx_peek_switch:
        .cfi_startproc
        SAVE_CALLEE_SAVED
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        jmp     cio__ctx_peek_on_task
        .cfi_endproc
        .size   cio__ctx_peek_switch, .-cio__ctx_peek_switch

/* Runs on the suspended stack, whose top is the frame cio__ctx_switch saved:
 * r15 r14 r13 r12 rbx rbp, then the return address into the code that
 * switched away. The CFI describes exactly that frame, so an unwinder
 * started in fn walks on into the suspended task's own frames. */
        .globl  cio__ctx_peek_on_task
        .hidden cio__ctx_peek_on_task
        .type   cio__ctx_peek_on_task, @function
        .p2align 4
cio__ctx_peek_on_task:
        .cfi_startproc
        .cfi_def_cfa rsp, 56
        .cfi_offset rbp, -16
        .cfi_offset rbx, -24
        .cfi_offset r12, -32
        .cfi_offset r13, -40
        .cfi_offset r14, -48
        .cfi_offset r15, -56
        pushq   %rdi                    /* save_sp; aligns rsp for the call */
        .cfi_adjust_cfa_offset 8
        movq    %rcx, %rdi
        call    *%rdx
        popq    %rax
        .cfi_adjust_cfa_offset -8
        movq    (%rax), %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        ret
        .cfi_endproc
        .size   cio__ctx_peek_on_task, .-cio__ctx_peek_on_task

        .section .note.GNU-stack,"",@progbits
