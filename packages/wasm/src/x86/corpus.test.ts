// The decoder against GNU objdump over the .text of the Debian kernel (bench/x86/prepare.mjs builds
// and caches the corpus): every instruction objdump decodes must have the same length here. Compared at
// objdump's own start addresses, so one disagreement cannot shift the rest.
import { readFileSync } from 'node:fs';
import { describe, expect } from 'vitest';
import { findVmlinuz, prepareCorpus, readObjdump } from '../../../../bench/x86/prepare.mjs';
import { itNeeds } from '../../../../test/support/requirements.js';
import { decodeBatches, decodeOne } from './index.js';

const vmlinuz = findVmlinuz();
const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');

describe('x86 decoder on the kernel .text', () => {
  itNeeds({ tools: ['objdump', 'objcopy', 'xz'], files: [vmlinuz ?? '/boot/vmlinuz-* (apt-get install linux-image-amd64)'] })(
    'agrees with objdump on every instruction length',
    async () => {
      const paths = await prepareCorpus({ vmlinuz });
      const text = new Uint8Array(readFileSync(paths.text));
      const { offsets, lengths } = readObjdump(paths.objdump);
      // Our own linear sweep: the length decoded at each offset it reaches (0: not reached).
      const ours = new Uint8Array(text.length);
      for (const batch of decodeBatches(text, { bitness: 64 })) {
        let at = batch.offset;
        for (let i = 0; i < batch.count; i++) {
          ours[at] = batch.status(i) === 'ok' ? batch.length(i) : 0xff;
          at += batch.length(i);
        }
      }
      const mismatches: string[] = [];
      let compared = 0;
      for (let k = 0; k < offsets.length; k++) {
        if (lengths[k] === 0) continue; // objdump's (bad)
        const at = offsets[k];
        let length = ours[at];
        if (length === 0) {
          const one = decodeOne(text.subarray(at, at + 15), { bitness: 64 });
          length = one.status === 'ok' ? one.length : 0xff;
        }
        compared++;
        if (length !== lengths[k] && mismatches.length < 40) {
          mismatches.push(`+${at.toString(16)}: ${hex(text.subarray(at, at + lengths[k]))} objdump ${lengths[k]}, ours ${length === 0xff ? 'invalid' : length}`);
        }
      }
      expect(compared).toBeGreaterThan(1_000_000);
      expect(mismatches).toEqual([]);
    },
    180_000,
  );
});
