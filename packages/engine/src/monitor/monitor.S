# isola's container monitor: a whole static x86-64 Linux program (ELF header included), no libc. The
# process that created a container's init execs it, so it is the init's parent: it copies the
# container's stdout and stderr into the log file, reaps the init, records its wait status, and may
# then exec an exit command (cleanup of a --rm container). It is the only thing that stays per
# container, so it must be small: no heap, one 64 KiB buffer, ~100 KiB RSS.
#
# Assembled bytes live in monitor.ts; monitor.test.ts checks they match this source when `as` is
# installed. Regenerate: as --64 -o m.o monitor.S && objcopy -O binary -j .text m.o m.bin && xxd -p m.bin
#
# Contract (monitor.ts writes it down for the TypeScript side):
#   fd 0  read end of the container's stdout pipe      fd 1  read end of its stderr pipe
#   fd 2  the log file, opened O_APPEND                  argv  monitor PID DIR [EXIT-COMMAND...]
#   log record: i64 realtime ns, u32 length, u32 stream (1 stdout, 2 stderr), then the bytes
#   DIR/exit (written as exit.tmp, then renamed): u32 wait status, u32 version (1), i64 realtime ns

        .set    BASE, 0x400000
        .set    BSS, 0x410000
        .set    BUFSIZE, 65536
        .set    POLLFDS, BSS            # two struct pollfd
        .set    TIME, BSS+16            # struct timespec
        .set    STATUS, BSS+32          # wait4's status
        .set    SIGACT, BSS+40          # a zeroed struct sigaction (SIG_DFL) and an empty sigset
        .set    EXITREC, BSS+80
        .set    HEADER, BSS+96          # log record header, followed by the data read
        .set    DATA, BSS+112
        .set    BSS_SIZE, 112+BUFSIZE

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
        mov     $13, %eax               # rt_sigaction(SIGCHLD, SIG_DFL): an inherited SIG_IGN would reap for us
        mov     $17, %edi
        mov     $SIGACT, %esi
        xor     %edx, %edx
        mov     $8, %r10d
        syscall
        mov     $14, %eax               # rt_sigprocmask(SIG_SETMASK, {}): nothing stays blocked
        mov     $2, %edi
        mov     $SIGACT, %esi
        xor     %edx, %edx
        syscall
        cmp     $3, %r12
        jb      quit
        mov     8(%r13), %rsi           # r15 = the init's pid, from argv[1]
        xor     %r15d, %r15d
1:      movzbl  (%rsi), %eax
        sub     $'0', %eax
        cmp     $9, %eax
        ja      2f
        imul    $10, %r15, %r15
        add     %rax, %r15
        inc     %rsi
        jmp     1b
2:      mov     $2, %eax                # rbp = open(argv[2], O_DIRECTORY|O_CLOEXEC)
        mov     16(%r13), %rdi
        mov     $0x90000, %esi
        syscall
        mov     %rax, %rbp
        mov     $POLLFDS, %ebx
        movabs  $0x100000000, %rax      # { fd 0, POLLIN }
        mov     %rax, (%rbx)
        movabs  $0x100000001, %rax      # { fd 1, POLLIN }
        mov     %rax, 8(%rbx)

pump:                                   # until both pipes are at EOF
        mov     (%rbx), %eax
        and     8(%rbx), %eax
        js      reap
        mov     $7, %eax                # poll(POLLFDS, 2, -1)
        mov     %rbx, %rdi
        mov     $2, %esi
        mov     $-1, %edx
        syscall
        cmp     $-4, %rax               # EINTR
        je      pump
        test    %rax, %rax
        js      reap
        mov     %rbx, %r8
        mov     $1, %r9d
        call    drain
        lea     8(%rbx), %r8
        mov     $2, %r9d
        call    drain
        jmp     pump

# drain(r8 = struct pollfd *, r9 = stream): one read, appended to the log as one record.
drain:
        cmpw    $0, 6(%r8)              # revents
        je      9f
        xor     %eax, %eax              # read(fd, DATA, BUFSIZE)
        movslq  (%r8), %rdi
        mov     $DATA, %esi
        mov     $BUFSIZE, %edx
        syscall
        cmp     $-4, %rax
        je      9f
        cmp     $-11, %rax              # EAGAIN
        je      9f
        test    %rax, %rax
        jle     8f
        mov     %rax, %r10
        mov     $228, %eax              # clock_gettime(CLOCK_REALTIME, TIME)
        xor     %edi, %edi
        mov     $TIME, %esi
        syscall
        mov     TIME, %rax
        imul    $1000000000, %rax, %rax
        add     TIME+8, %rax
        mov     %rax, HEADER
        mov     %r10d, HEADER+8
        mov     %r9d, HEADER+12
        mov     $1, %eax                # write(2, HEADER, 16 + n)
        mov     $2, %edi
        mov     $HEADER, %esi
        lea     16(%r10), %rdx
        syscall
        ret
8:      mov     $3, %eax                # EOF or error: close it, and poll ignores a negative fd
        movslq  (%r8), %rdi
        syscall
        movl    $-1, (%r8)
9:      ret

reap:
        mov     $61, %eax               # wait4(-1, STATUS, 0, NULL)
        mov     $-1, %edi
        mov     $STATUS, %esi
        xor     %edx, %edx
        xor     %r10d, %r10d
        syscall
        cmp     $-4, %rax
        je      reap
        test    %rax, %rax
        js      command                 # ECHILD: the init was never ours
        cmp     %r15, %rax
        jne     reap
        mov     $228, %eax
        xor     %edi, %edi
        mov     $TIME, %esi
        syscall
        mov     STATUS, %eax
        mov     %eax, EXITREC
        movl    $1, EXITREC+4
        mov     TIME, %rax
        imul    $1000000000, %rax, %rax
        add     TIME+8, %rax
        mov     %rax, EXITREC+8
        mov     $257, %eax              # openat(dir, "exit.tmp", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0644)
        mov     %rbp, %rdi
        lea     tmpname(%rip), %rsi
        mov     $0x80241, %edx
        mov     $0644, %r10d
        syscall
        test    %rax, %rax
        js      command
        mov     %rax, %rdi
        mov     $1, %eax                # write(fd, EXITREC, 16)
        mov     $EXITREC, %esi
        mov     $16, %edx
        syscall
        mov     $3, %eax
        syscall
        mov     $264, %eax              # renameat(dir, "exit.tmp", dir, "exit")
        mov     %rbp, %rdi
        lea     tmpname(%rip), %rsi
        mov     %rbp, %rdx
        lea     exitname(%rip), %r10
        syscall

command:                                # exec argv[3...] with stdio on /dev/null, if given
        cmp     $4, %r12
        jb      quit
        xor     %edi, %edi
3:      mov     $3, %eax
        syscall
        inc     %edi
        cmp     $3, %edi
        jb      3b
        mov     $3, %ebx
4:      mov     $2, %eax                # open("/dev/null", O_RDWR) three times: 0, 1, 2
        lea     devnull(%rip), %rdi
        mov     $2, %esi
        syscall
        dec     %ebx
        jnz     4b
        mov     $59, %eax               # execve(argv[3], argv + 3, envp)
        mov     24(%r13), %rdi
        lea     24(%r13), %rsi
        mov     %r14, %rdx
        syscall
quit:
        mov     $231, %eax              # exit_group(0)
        xor     %edi, %edi
        syscall

tmpname:        .asciz  "exit.tmp"
exitname:       .asciz  "exit"
devnull:        .asciz  "/dev/null"
end:
