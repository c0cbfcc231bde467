# isola-init: the PID 1 of a container run with --init (docker runs tini there, bind-mounted at
# /dev/init). A shell or a program that never expected to be PID 1 neither reaps orphans nor dies on
# SIGTERM (the kernel drops signals to a namespace's init that has no handler for them); this does
# both: it forks the command, forwards every signal to it, reaps every child, and exits with the
# command's status (128 + the signal when it was killed). A whole static x86-64 Linux program, no libc.
#
# Assembled bytes live in init.ts; init.test.ts checks they match this source when `as` is installed.
# Regenerate: as --64 -o i.o init.S && objcopy -O binary -j .text i.o i.bin && xxd -p i.bin
#
#   argv  isola-init [--] COMMAND [ARG...]     COMMAND without a slash is looked up in $PATH
#   exit  the command's status; 127 (with a line on stderr) when it cannot be executed; 2 without one

        .set    BASE, 0x400000
        .set    BSS, 0x410000
        .set    SIGSET, BSS             # 8 bytes: every signal (blocked, and waited for)
        .set    EMPTY, BSS+8            # 8 bytes: no signal
        .set    STATUS, BSS+16          # wait4's status
        .set    INFO, BSS+32            # siginfo_t, 128 bytes
        .set    PATHBUF, BSS+160        # a candidate path for execve
        .set    PATHMAX, 4096
        .set    BSS_SIZE, 160+PATHMAX

        .text
ehdr:
        .byte   0x7f, 'E', 'L', 'F', 2, 1, 1, 0
        .quad   0
        .word   2, 0x3e                 # ET_EXEC, EM_X86_64
        .long   1
        .quad   BASE + _start - ehdr    # e_entry
        .quad   phdrs - ehdr            # e_phoff
        .quad   0                       # e_shoff
        .long   0
        .word   64, 56, 3, 0, 0, 0      # e_ehsize, e_phentsize, e_phnum, no sections
phdrs:
        .long   1, 5                    # PT_LOAD, R+X: this file
        .quad   0, BASE, BASE, end - ehdr, end - ehdr, 0x1000
        .long   1, 6                    # PT_LOAD, R+W: zero-filled buffers
        .quad   0, BSS, BSS, 0, BSS_SIZE, 0x1000
        .long   0x6474e551, 6           # PT_GNU_STACK: not executable
        .quad   0, 0, 0, 0, 0, 16

_start:
        mov     (%rsp), %r12            # argc
        lea     8(%rsp), %r13           # argv
        lea     16(%rsp,%r12,8), %r14   # envp
        mov     $1, %ebx                # rbx = index of COMMAND in argv
        cmp     $2, %r12
        jb      usage
        mov     8(%r13), %rsi           # skip a leading "--", as tini takes it
        cmpw    $0x2d2d, (%rsi)
        jne     1f
        cmpb    $0, 2(%rsi)
        jne     1f
        inc     %ebx
1:      cmp     %rbx, %r12
        jbe     usage
        mov     (%r13,%rbx,8), %rbp     # rbp = the command's name
        movq    $-1, SIGSET
        mov     $14, %eax               # rt_sigprocmask(SIG_SETMASK, every signal, NULL, 8)
        mov     $2, %edi
        mov     $SIGSET, %esi
        xor     %edx, %edx
        mov     $8, %r10d
        syscall
        mov     $57, %eax               # fork()
        syscall
        test    %rax, %rax
        js      fail
        jz      child
        mov     %rax, %r15              # r15 = the command's pid

wait:                                   # every signal: SIGCHLD reaps, the others go to the command
        mov     $128, %eax              # rt_sigtimedwait(every signal, INFO, NULL, 8)
        mov     $SIGSET, %edi
        mov     $INFO, %esi
        xor     %edx, %edx
        mov     $8, %r10d
        syscall
        test    %eax, %eax
        js      wait                    # EINTR
        cmp     $17, %eax               # SIGCHLD
        je      reap
        mov     %eax, %esi              # kill(command, signal)
        mov     $62, %eax
        mov     %r15, %rdi
        syscall
        jmp     wait

reap:                                   # wait4(-1, STATUS, WNOHANG) until nothing is left to reap
        mov     $61, %eax
        mov     $-1, %edi
        mov     $STATUS, %esi
        mov     $1, %edx
        xor     %r10d, %r10d
        syscall
        test    %rax, %rax
        jle     wait                    # 0: the others still run; ECHILD: none left
        cmp     %r15, %rax
        jne     reap                    # an orphan, adopted and now gone
        mov     STATUS, %eax            # the command: exit with its status
        mov     %eax, %edi
        and     $0x7f, %edi
        jz      2f
        add     $128, %edi              # killed: 128 + the signal
        jmp     quit
2:      shr     $8, %eax
        movzbl  %al, %edi
quit:
        mov     $231, %eax              # exit_group(status)
        syscall

child:
        mov     $14, %eax               # rt_sigprocmask(SIG_SETMASK, no signal, NULL, 8)
        mov     $2, %edi
        mov     $EMPTY, %esi
        xor     %edx, %edx
        mov     $8, %r10d
        syscall
        lea     (%r13,%rbx,8), %r13     # r13 = the command's argv
        mov     %rbp, %rdi              # a slash in its name: exec it as it is
3:      movzbl  (%rdi), %eax
        test    %eax, %eax
        jz      4f
        cmp     $'/', %eax
        je      direct
        inc     %rdi
        jmp     3b
4:      sub     %rbp, %rdi
        mov     %rdi, %r8               # r8 = length of the name
        lea     defpath(%rip), %rbx     # rbx = $PATH, or the default one
        mov     %r14, %rcx
5:      mov     (%rcx), %rsi
        test    %rsi, %rsi
        jz      candidate
        add     $8, %rcx
        cmpl    $0x48544150, (%rsi)     # "PATH="
        jne     5b
        cmpb    $'=', 4(%rsi)
        jne     5b
        lea     5(%rsi), %rbx

candidate:                              # PATHBUF = the next directory of PATH + "/" + name
        mov     $PATHBUF, %edi
        mov     %rbx, %rsi
6:      movzbl  (%rsi), %eax
        test    %eax, %eax
        jz      7f
        cmp     $':', %eax
        je      7f
        cmp     $PATHBUF+PATHMAX-2, %edi
        jae     next                    # too long to be a path
        mov     %al, (%rdi)
        inc     %rdi
        inc     %rsi
        jmp     6b
7:      mov     %rsi, %rbx              # rbx = where the next directory starts (at ':' or the end)
        cmp     $PATHBUF, %edi
        jne     8f
        movb    $'.', (%rdi)            # an empty entry is the current directory
        inc     %rdi
8:      lea     (%rdi,%r8), %rax
        cmp     $PATHBUF+PATHMAX-2, %eax
        jae     next
        movb    $'/', (%rdi)
        inc     %rdi
        mov     %rbp, %rsi              # name and its NUL
        lea     1(%r8), %rcx
        rep movsb
        mov     $59, %eax               # execve(PATHBUF, argv, envp): returns only on failure
        mov     $PATHBUF, %edi
        mov     %r13, %rsi
        mov     %r14, %rdx
        syscall
next:
        mov     %rbx, %rsi              # skip to past the next ':', or fail at the end
9:      movzbl  (%rsi), %eax
        inc     %rsi
        test    %eax, %eax
        jz      fail
        cmp     $':', %eax
        jne     9b
        mov     %rsi, %rbx
        jmp     candidate

direct:
        mov     $59, %eax
        mov     %rbp, %rdi
        mov     %r13, %rsi
        mov     %r14, %rdx
        syscall

fail:                                   # "isola-init: cannot execute NAME\n" on stderr, exit 127
        mov     $1, %eax
        mov     $2, %edi
        lea     failmsg(%rip), %rsi
        mov     $failend-failmsg, %edx
        syscall
        mov     %rbp, %rsi
        mov     %rbp, %rdx
10:     cmpb    $0, (%rdx)
        je      11f
        inc     %rdx
        jmp     10b
11:     sub     %rbp, %rdx
        mov     $1, %eax
        mov     $2, %edi
        syscall
        mov     $1, %eax
        mov     $2, %edi
        lea     newline(%rip), %rsi
        mov     $1, %edx
        syscall
        mov     $127, %edi
        jmp     quit

usage:
        mov     $1, %eax
        mov     $2, %edi
        lea     usagemsg(%rip), %rsi
        mov     $usageend-usagemsg, %edx
        syscall
        mov     $2, %edi
        jmp     quit

defpath:        .asciz  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
failmsg:        .ascii  "isola-init: cannot execute "
failend:
newline:        .ascii  "\n"
usagemsg:       .ascii  "usage: isola-init [--] COMMAND [ARG...]\n"
usageend:
end:
