// --trace-mmio under real KVM: the guest-kit mmio guest (long mode, paging on) makes four accesses at
// 0xd0000000, where no device answers; each is traced with its size, direction, data, RIP and the
// instruction read from guest memory through the guest's page tables.
import { describe, expect } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import { buildMoreGuests } from '../../../../tools/guest-kit/build-more.mjs';
import { PASS_STATUS } from '../../../../tools/guest-kit/build.mjs';
import { createVm } from '../vm.js';

const guestTest = itNeeds({ kvm: true, tools: ['gcc', 'ld'] });
const RIP = /rip=0x10[0-9a-f]{4}/;

describe('--trace-mmio', () => {
  guestTest('traces each MMIO access with its data, RIP and disassembled instruction', async () => {
    const lines: string[] = [];
    const chunks: Buffer[] = [];
    const vm = await createVm({ memoryMiB: 16, kernel: buildMoreGuests().mmio, console: (b) => chunks.push(Buffer.from(b)), traceMmio: (line) => lines.push(line) });
    await vm.start();
    expect(await vm.wait()).toEqual({ reason: 'exit', status: PASS_STATUS });
    expect(Buffer.concat(chunks).toString()).toBe('mmio: reads saw all ones\n');
    expect(lines.map((l) => l.replace(RIP, 'rip=RIP'))).toEqual([
      'mmio write 4 bytes at 0xd0000070 = 0x0000000f  rip=RIP  mov dword ptr [rax+70h], ecx',
      'mmio write 1 byte at 0xd0000010 = 0x5a  rip=RIP  mov byte ptr [rax+10h], 5Ah',
      'mmio read 8 bytes at 0xd0000008 = 0xffffffffffffffff  rip=RIP  mov rdx, qword ptr [rax+8]',
      'mmio read 2 bytes at 0xd0000002 = 0xffff  rip=RIP  movzx eax, word ptr [rbx+2]',
    ]);
    // Four consecutive instructions, in order: 3, 4 and 4 bytes long, then a 3-byte mov between.
    const rips = lines.map((l) => Number.parseInt(RIP.exec(l)![0].slice(4), 16));
    expect(rips.slice(1).map((r, i) => r - rips[i]!)).toEqual([3, 4, 7]);
  }, 30_000);
});
