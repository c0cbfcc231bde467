// The host CPU as a reference for the x86 emulator (emulator.host.test.ts): runs one instruction per
// case on this machine's own registers and memory and prints what it left behind.
//
// stdin, per case: 16 instruction bytes (unused ones 0x90), the state (rax..r15 with rsp ignored,
// rflags, xmm0..xmm15), 64 bytes of memory and the u64 number of the register that points at it
// while the instruction runs (the test's value is replaced by the buffer's address and restored
// afterwards). stdout: the state and the memory after the instruction, in the same layout. Only
// unprivileged instructions make sense here.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

struct state {
  uint64_t gpr[16]; // rax rcx rdx rbx rsp rbp rsi rdi r8..r15
  uint64_t rflags;
  uint8_t xmm[256];
};

extern char stub[], stub_slot[], stub_end[];

// run(state): loads every register but rsp from the state, runs the 16-byte slot, stores them back.
__asm__(
    ".text\n.globl stub\n.globl stub_slot\n.globl stub_end\nstub:\n"
    "push %rbx\npush %rbp\npush %r12\npush %r13\npush %r14\npush %r15\npush %rdi\n"
    "movdqu 136(%rdi),%xmm0\nmovdqu 152(%rdi),%xmm1\nmovdqu 168(%rdi),%xmm2\nmovdqu 184(%rdi),%xmm3\n"
    "movdqu 200(%rdi),%xmm4\nmovdqu 216(%rdi),%xmm5\nmovdqu 232(%rdi),%xmm6\nmovdqu 248(%rdi),%xmm7\n"
    "movdqu 264(%rdi),%xmm8\nmovdqu 280(%rdi),%xmm9\nmovdqu 296(%rdi),%xmm10\nmovdqu 312(%rdi),%xmm11\n"
    "movdqu 328(%rdi),%xmm12\nmovdqu 344(%rdi),%xmm13\nmovdqu 360(%rdi),%xmm14\nmovdqu 376(%rdi),%xmm15\n"
    "pushq 128(%rdi)\npopfq\n"
    "mov 0(%rdi),%rax\nmov 8(%rdi),%rcx\nmov 16(%rdi),%rdx\nmov 24(%rdi),%rbx\nmov 40(%rdi),%rbp\nmov 48(%rdi),%rsi\n"
    "mov 64(%rdi),%r8\nmov 72(%rdi),%r9\nmov 80(%rdi),%r10\nmov 88(%rdi),%r11\nmov 96(%rdi),%r12\nmov 104(%rdi),%r13\n"
    "mov 112(%rdi),%r14\nmov 120(%rdi),%r15\nmov 56(%rdi),%rdi\n"
    "stub_slot:\n.fill 16,1,0x90\n"
    "pushfq\npush %rdi\nmov 16(%rsp),%rdi\n"
    "mov %rax,0(%rdi)\nmov %rcx,8(%rdi)\nmov %rdx,16(%rdi)\nmov %rbx,24(%rdi)\nmov %rbp,40(%rdi)\nmov %rsi,48(%rdi)\n"
    "mov %r8,64(%rdi)\nmov %r9,72(%rdi)\nmov %r10,80(%rdi)\nmov %r11,88(%rdi)\nmov %r12,96(%rdi)\nmov %r13,104(%rdi)\n"
    "mov %r14,112(%rdi)\nmov %r15,120(%rdi)\npop %rax\nmov %rax,56(%rdi)\npop %rax\nmov %rax,128(%rdi)\n"
    "movdqu %xmm0,136(%rdi)\nmovdqu %xmm1,152(%rdi)\nmovdqu %xmm2,168(%rdi)\nmovdqu %xmm3,184(%rdi)\n"
    "movdqu %xmm4,200(%rdi)\nmovdqu %xmm5,216(%rdi)\nmovdqu %xmm6,232(%rdi)\nmovdqu %xmm7,248(%rdi)\n"
    "movdqu %xmm8,264(%rdi)\nmovdqu %xmm9,280(%rdi)\nmovdqu %xmm10,296(%rdi)\nmovdqu %xmm11,312(%rdi)\n"
    "movdqu %xmm12,328(%rdi)\nmovdqu %xmm13,344(%rdi)\nmovdqu %xmm14,360(%rdi)\nmovdqu %xmm15,376(%rdi)\n"
    "pop %rdi\npop %r15\npop %r14\npop %r13\npop %r12\npop %rbp\npop %rbx\nret\nstub_end:\n");

int main(void) {
  size_t size = (size_t)(stub_end - stub);
  char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) return 2;
  memcpy(code, stub, size);
  static uint8_t memory[64] __attribute__((aligned(64)));
  struct state state;
  uint8_t bytes[16];
  uint64_t base;
  while (fread(bytes, 16, 1, stdin) == 1 && fread(&state, sizeof state, 1, stdin) == 1 && fread(memory, 64, 1, stdin) == 1 &&
         fread(&base, 8, 1, stdin) == 1) {
    if (base > 15 || base == 4) return 3;
    memcpy(code + (stub_slot - stub), bytes, 16);
    uint64_t value = state.gpr[base];
    state.gpr[base] = (uint64_t)(uintptr_t)memory;
    ((void (*)(struct state *))code)(&state);
    state.gpr[base] = state.gpr[base] - (uint64_t)(uintptr_t)memory + value;
    fwrite(&state, sizeof state, 1, stdout);
    fwrite(memory, 64, 1, stdout);
  }
  return 0;
}
