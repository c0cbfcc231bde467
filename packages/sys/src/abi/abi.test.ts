// The ABI tables against the C headers: a generated C program prints sizeof/offsetof and the value of
// every ioctl number and constant, and each must equal what the TypeScript tables say.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import * as constants from './constants.js';
import * as ioctls from './ioctls.js';
import * as structs from './structs.js';

/** The C type behind each layout whose TS name differs from `struct <name>`. */
const C_TYPES: Record<string, string> = {
  user_cap_header: 'struct __user_cap_header_struct',
  user_cap_data: 'struct __user_cap_data_struct',
  siginfo: 'siginfo_t',
};

/** Sizes that are not sizeof(): kvm_run's mapping is larger than the part isola reads. */
const SIZE_IS_NOT_SIZEOF = new Set(['kvm_run', 'ifreq']);

/** Constants that are not C macros of the same name. */
const NOT_IN_HEADERS = new Set(['SYS', 'CAPABILITIES', 'RLIMITS', 'KVM_CAP', 'RLIM_INFINITY', 'SYS_pivot_root', 'KVM_API_VERSION']);

function cProgram(): { source: string; expected: Map<string, string> } {
  const lines: string[] = [];
  const expected = new Map<string, string>();
  const emit = (key: string, expr: string, value: number | bigint) => {
    lines.push(`  printf("%s %llu\\n", ${JSON.stringify(key)}, (unsigned long long)(${expr}));`);
    expected.set(key, BigInt.asUintN(64, BigInt(value)).toString());
  };
  for (const [name, layout] of Object.entries(structs)) {
    const type = C_TYPES[name] ?? `struct ${name}`;
    for (const [field, value] of Object.entries(layout)) {
      if (field === 'size') {
        if (!SIZE_IS_NOT_SIZEOF.has(name)) emit(`${name}.size`, `sizeof(${type})`, value);
      } else {
        emit(`${name}.${field}`, `offsetof(${type}, ${field})`, value);
      }
    }
  }
  for (const [name, value] of Object.entries(ioctls)) emit(name, name, value);
  for (const [name, value] of Object.entries(constants)) {
    if (!NOT_IN_HEADERS.has(name) && (typeof value === 'number' || typeof value === 'bigint')) emit(name, name, value);
  }
  for (const [name, value] of Object.entries(constants.KVM_CAP)) emit(`KVM_CAP_${name}`, `KVM_CAP_${name}`, value);
  for (const [name, value] of Object.entries(constants.SYS)) emit(`SYS_${name}`, `SYS_${name}`, value);
  constants.CAPABILITIES.forEach((name, bit) => emit(name, name, bit));
  constants.RLIMITS.forEach((name, n) => emit(name, name, n));
  emit('SYS_pivot_root', 'SYS_pivot_root', constants.SYS_pivot_root);
  emit('KVM_API_VERSION', 'KVM_API_VERSION', constants.KVM_API_VERSION);
  emit('RLIM_INFINITY', 'RLIM64_INFINITY', constants.RLIM_INFINITY);
  const source = `#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/file.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <sys/ioctl.h>
#include <net/if.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>
int main(void) {
${lines.join('\n')}
  return 0;
}
`;
  return { source, expected };
}

describe('ABI tables', () => {
  itNeeds({ tools: ['cc'], files: ['/usr/include/linux/kvm.h'] })('match the kernel and libc headers', () => {
    const { source, expected } = cProgram();
    const dir = mkdtempSync(join(tmpdir(), 'isola-abi-'));
    try {
      writeFileSync(join(dir, 'abi.c'), source);
      execFileSync('cc', ['-o', join(dir, 'abi'), join(dir, 'abi.c')], { stdio: 'pipe' });
      const actual = new Map(
        execFileSync(join(dir, 'abi'), { encoding: 'utf8' })
          .trim()
          .split('\n')
          .map((line) => line.split(' ') as [string, string]),
      );
      expect(Object.fromEntries(actual)).toEqual(Object.fromEntries(expected));
      expect(actual.size).toBeGreaterThan(250);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
