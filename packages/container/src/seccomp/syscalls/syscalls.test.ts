// The committed tables are what generate.mjs makes from this host's kernel headers, and the numbers
// the rest of the compiler leans on are where the ABIs put them.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { itNeeds } from '../../../../../test/support/requirements.js';
import { I386_SYSCALLS } from './i386.js';
import { X32_SYSCALLS } from './x32.js';
import { X86_64_SYSCALLS } from './x86_64.js';

const HEADERS = ['unistd_64.h', 'unistd_32.h', 'unistd_x32.h'].map((h) => `/usr/include/x86_64-linux-gnu/asm/${h}`);

describe('syscall tables', () => {
  itNeeds({ files: HEADERS })('match what generate.mjs makes from the kernel headers', () => {
    const script = fileURLToPath(new URL('./generate.mjs', import.meta.url));
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('number each ABI the way the kernel does', () => {
    expect([X86_64_SYSCALLS.read, X86_64_SYSCALLS.mount, X86_64_SYSCALLS.personality, X86_64_SYSCALLS.clone3]).toEqual([0, 165, 135, 435]);
    expect([I386_SYSCALLS.exit, I386_SYSCALLS.write, I386_SYSCALLS.socketcall, I386_SYSCALLS.personality]).toEqual([1, 4, 102, 136]);
    // x32 reuses x86_64's numbers except where its 32-bit structures differ (512 and up).
    expect([X32_SYSCALLS.read, X32_SYSCALLS.rt_sigaction, X32_SYSCALLS.ioctl]).toEqual([0, 512, 514]);
    expect(X86_64_SYSCALLS.socketcall).toBeUndefined();
  });
});
