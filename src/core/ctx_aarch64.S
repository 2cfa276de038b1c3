/* ctx_aarch64.S - task context switch for AArch64 (AAPCS64).
 *
 * void cio__ctx_switch(void **from_sp, void *to_sp)
 *
 * Saves x19-x30 and d8-d15 (the callee-saved set) in a 160-byte frame on the
 * current stack, stores sp in *from_sp, switches to to_sp and restores.
 */
/* The 160-byte frame every saved context has (cio__ctx_peek_on_task's CFI
 * reads it): x19-x30 then d8-d15, from sp upwards. */
        .macro SAVE_CALLEE_SAVED
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
        .endm

        .text
        .globl  cio__ctx_switch
        .hidden cio__ctx_switch
        .type   cio__ctx_switch, %function
        .p2align 4
cio__ctx_switch:
        .cfi_startproc
        SAVE_CALLEE_SAVED
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

/* void cio__ctx_peek_switch(void **save_sp, void *to_sp, void (*fn)(void *), void *arg)
 *
 * Task dumps: save the running context as cio__ctx_switch does, move onto
 * the stack of a suspended context (to_sp, as saved by cio__ctx_switch) and
 * call fn(arg) there, then switch back. The suspended frame is only read. */
        .globl  cio__ctx_peek_switch
        .hidden cio__ctx_peek_switch
        .type   cio__ctx_peek_switch, %function
        .p2align 4
cio__ctx_peek_switch:
        .cfi_startproc
        SAVE_CALLEE_SAVED
        mov     x4, sp
        str     x4, [x0]
        mov     sp, x1
        b       cio__ctx_peek_on_task
        .cfi_endproc
        .size   cio__ctx_peek_switch, .-cio__ctx_peek_switch

/* Runs on the suspended stack, whose top is the 160-byte frame
 * cio__ctx_switch saved (x30 there is the return address into the code that
 * switched away). The CFI describes exactly that frame, so an unwinder
 * started in fn walks on into the suspended task's own frames. */
        .globl  cio__ctx_peek_on_task
        .hidden cio__ctx_peek_on_task
        .type   cio__ctx_peek_on_task, %function
        .p2align 4
cio__ctx_peek_on_task:
        .cfi_startproc
        .cfi_def_cfa sp, 160
        .cfi_offset x19, -160
        .cfi_offset x20, -152
        .cfi_offset x21, -144
        .cfi_offset x22, -136
        .cfi_offset x23, -128
        .cfi_offset x24, -120
        .cfi_offset x25, -112
        .cfi_offset x26, -104
        .cfi_offset x27, -96
        .cfi_offset x28, -88
        .cfi_offset x29, -80
        .cfi_offset x30, -72
        .cfi_offset d8, -64
        .cfi_offset d9, -56
        .cfi_offset d10, -48
        .cfi_offset d11, -40
        .cfi_offset d12, -32
        .cfi_offset d13, -24
        .cfi_offset d14, -16
        .cfi_offset d15, -8
        str     x0, [sp, #-16]!         /* save_sp */
        .cfi_adjust_cfa_offset 16
        mov     x0, x3
        blr     x2
        ldr     x0, [sp], #16
        .cfi_adjust_cfa_offset -16
        ldr     x1, [x0]
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
        .size   cio__ctx_peek_on_task, .-cio__ctx_peek_on_task

        .section .note.GNU-stack,"",%progbits
