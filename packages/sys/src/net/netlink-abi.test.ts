// The rtnetlink tables against the C headers, the way abi/abi.test.ts checks the rest of the ABI.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import * as nl from './netlink-abi.js';

describe('rtnetlink ABI tables', () => {
  itNeeds({ tools: ['cc'], files: ['/usr/include/linux/rtnetlink.h'] })('match <linux/rtnetlink.h> and friends', () => {
    const lines: string[] = [];
    const expected: Record<string, string> = {};
    const emit = (key: string, expr: string, value: number) => {
      lines.push(`  printf("%s %lld\\n", ${JSON.stringify(key)}, (long long)(${expr}));`);
      expected[key] = String(value);
    };
    for (const [name, value] of Object.entries(nl)) {
      if (typeof value === 'number') emit(name, name, value);
      else if (name !== 'MESSAGE_NAMES') {
        for (const [field, offset] of Object.entries(value as Record<string, number>)) {
          emit(`${name}.${field}`, field === 'size' ? `sizeof(struct ${name})` : `offsetof(struct ${name}, ${field})`, offset);
        }
      }
    }
    const dir = mkdtempSync(join(tmpdir(), 'isola-netlink-abi-'));
    try {
      writeFileSync(
        join(dir, 'abi.c'),
        `#include <stddef.h>\n#include <stdio.h>\n#include <sys/socket.h>\n#include <net/if.h>\n#include <linux/netlink.h>\n#include <linux/rtnetlink.h>\n#include <linux/if_link.h>\n#include <linux/if_addr.h>\n#include <linux/veth.h>\nint main(void) {\n${lines.join('\n')}\n  return 0;\n}\n`,
      );
      execFileSync('cc', ['-o', join(dir, 'abi'), join(dir, 'abi.c')], { stdio: 'pipe' });
      const actual = Object.fromEntries(execFileSync(join(dir, 'abi'), { encoding: 'utf8' }).trim().split('\n').map((l) => l.split(' ')));
      expect(actual).toEqual(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
