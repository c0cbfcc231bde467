# The code a cloned child runs instead of JavaScript: it executes a prepared list of raw syscalls and
# nothing else (no libc, no malloc, no stack use), so it is safe in the copy of a multi-threaded Node
# process that clone() leaves it in. Assembled bytes live in interpreter.ts; spawn.test.ts checks
# they match this source when `as` is installed.
#
# Entered from glibc's clone() as fn(arg), with arg (rdi) pointing at the program:
#    0  u64 number of steps
#    8  u64 error fd: on failure the child writes { u32 step, u32 errno } here and exits 127
#   16  u64 scratch for that report
#   24  u64 slots[8]: results saved by earlier steps (fds from open, openat2, dup...)
#   88  u64 args[6]: scratch for the current step's resolved arguments
#  136  steps, 64 bytes each: u64 syscall number, u64 args[6], u64 flags
# Step flags: bit 0 ignore failure; bits 8-11 save the result in slot n-1 (0: don't);
# bits 16-39, four per argument: take argument i from slot n-1 instead of the literal (0: literal).
# A successful execve never returns; a list that ends without one exits 0.

        .set    REPORT, 16
        .set    SLOTS, 24
        .set    ARGS, 88
        .set    STEPS, 136

        .text
        .globl isola_spawn_interpreter
isola_spawn_interpreter:
        mov     %rdi, %r12              # program
        mov     (%r12), %r13            # step count
        lea     STEPS(%r12), %r14       # current step
        xor     %ebx, %ebx              # step index
next:
        cmp     %r13, %rbx
        jae     done
        mov     56(%r14), %rbp          # flags
        mov     %rbp, %rdx
        shr     $16, %rdx               # argument sources, four bits each
        xor     %ecx, %ecx
resolve:
        mov     8(%r14,%rcx,8), %rax    # the literal
        mov     %edx, %esi
        and     $15, %esi
        jz      1f
        mov     SLOTS-8(%r12,%rsi,8), %rax
1:      mov     %rax, ARGS(%r12,%rcx,8)
        shr     $4, %rdx
        inc     %ecx
        cmp     $6, %ecx
        jb      resolve
        mov     ARGS(%r12), %rdi
        mov     ARGS+8(%r12), %rsi
        mov     ARGS+16(%r12), %rdx
        mov     ARGS+24(%r12), %r10
        mov     ARGS+32(%r12), %r8
        mov     ARGS+40(%r12), %r9
        mov     (%r14), %rax
        syscall
        cmp     $-4095, %rax            # -4095..-1 (unsigned: the top of the range) is -errno
        jb      ok
        test    $1, %bpl
        jnz     advance
        neg     %eax
        mov     %ebx, REPORT(%r12)
        mov     %eax, REPORT+4(%r12)
        mov     $1, %eax                # write(errfd, &report, 8)
        mov     8(%r12), %rdi
        lea     REPORT(%r12), %rsi
        mov     $8, %edx
        syscall
        mov     $231, %eax              # exit_group(127)
        mov     $127, %edi
        syscall
ok:
        shr     $8, %rbp
        and     $15, %ebp
        jz      advance
        mov     %rax, SLOTS-8(%r12,%rbp,8)
advance:
        inc     %rbx
        add     $64, %r14
        jmp     next
done:
        mov     $231, %eax              # exit_group(0)
        xor     %edi, %edi
        syscall
