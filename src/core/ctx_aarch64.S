/* ctx_aarch64.S - task context switch for AArch64 (AAPCS64).
 *
 * void cio__ctx_switch(void **from_sp, void *to_sp)
 *
 * Saves x19-x30 and d8-d15 (the callee-saved set) in a 160-byte frame on the
 * current stack, stores sp in *from_sp, switches to to_sp and restores.
 */
        .text
        .globl  cio__ctx_switch
        .hidden cio__ctx_switch
        .type   cio__ctx_switch, %function
        .p2align 4
cio__ctx_switch:
        .cfi_startproc
        sub     sp, sp, #160
        stp     x19, x20, [sp, #0]
        stp     x21, x22, [sp, #16]
        stp     x23, x24, [sp, #32]
        stp     x25, x26, [sp, #48]
        stp     x27, x28, [sp, #64]
        stp     x29, x30, [sp, #80]
        stp     d8,  d9,  [sp, #96]
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]
        mov     x2, sp
        str     x2, [x0]
        mov     sp, x1
        ldp     x19, x20, [sp, #0]
        ldp     x21, x22, [sp, #16]
        ldp     x23, x24, [sp, #32]
        ldp     x25, x26, [sp, #48]
        ldp     x27, x28, [sp, #64]
        ldp     x29, x30, [sp, #80]
        ldp     d8,  d9,  [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        add     sp, sp, #160
        ret
        .cfi_endproc
        .size   cio__ctx_switch, .-cio__ctx_switch

/* A new task's first switch "returns" here (x30 was preset to it). */
        .globl  cio__ctx_trampoline
        .hidden cio__ctx_trampoline
        .type   cio__ctx_trampoline, %function
        .p2align 4
cio__ctx_trampoline:
        .cfi_startproc
        .cfi_undefined x30
        mov     x29, #0
        bl      cio__task_entry
        brk     #0
        .cfi_endproc
        .size   cio__ctx_trampoline, .-cio__ctx_trampoline

        .section .note.GNU-stack,"",%progbits
