# The code a cloned child runs instead of JavaScript: it executes a prepared list of raw syscalls and
# nothing else (no libc, no malloc, no stack use), so it is safe in the copy of a multi-threaded Node
# process that clone() leaves it in. Assembled bytes live in interpreter.ts; interpreter.test.ts checks
# they match this source when `as` is installed.
#
# Entered from glibc's clone() as fn(arg), with arg (rdi) pointing at the program:
#    0  u64 number of steps
#    8  u64 error fd: on failure the child writes { u32 step, u32 errno } here and exits 127
#   16  u64 scratch for that report
#   24  steps, 64 bytes each: u64 syscall number, u64 args[6], u64 flags
# Step flags: 1 = ignore failure, 2 = save the result, 4 = pass the saved result as the first argument.
# A successful execve never returns; a list that ends without one exits 0.

        .text
        .globl isola_spawn_interpreter
isola_spawn_interpreter:
        mov     %rdi, %r12              # program
        mov     (%r12), %r13            # step count
        lea     24(%r12), %r14          # current step
        xor     %ebx, %ebx              # step index
        xor     %r15d, %r15d            # saved result
next:
        cmp     %r13, %rbx
        jae     done
        mov     8(%r14), %rdi
        testb   $4, 56(%r14)
        jz      1f
        mov     %r15, %rdi
1:      mov     (%r14), %rax
        mov     16(%r14), %rsi
        mov     24(%r14), %rdx
        mov     32(%r14), %r10
        mov     40(%r14), %r8
        mov     48(%r14), %r9
        syscall
        cmp     $-4095, %rax            # -4095..-1 (unsigned: the top of the range) is -errno
        jb      ok
        testb   $1, 56(%r14)
        jnz     advance
        neg     %eax
        mov     %ebx, 16(%r12)
        mov     %eax, 20(%r12)
        mov     $1, %eax                # write(errfd, &report, 8)
        mov     8(%r12), %rdi
        lea     16(%r12), %rsi
        mov     $8, %edx
        syscall
        mov     $231, %eax              # exit_group(127)
        mov     $127, %edi
        syscall
ok:
        testb   $2, 56(%r14)
        jz      advance
        mov     %rax, %r15
advance:
        inc     %rbx
        add     $64, %r14
        jmp     next
done:
        mov     $231, %eax              # exit_group(0)
        xor     %edi, %edi
        syscall
