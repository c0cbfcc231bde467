// Generated encodings the decoder and the formatter are checked on against iced-x86 (oracle.test.ts,
// format.test.ts): every opcode of every legacy map under prefix combinations and ModRM forms, every
// ModRM/SIB addressing form in each mode, and the VEX/EVEX space. Each encoding carries a tail of
// filler bytes so that no immediate or displacement runs out.
import type { Bitness } from './index.js';

export const TAIL = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee];
// ModRM forms: [reg], SIB, disp32/RIP, disp8, disp32 and the register form with every r/m (the 0F 01
// and x87 groups name an instruction per r/m); each with every reg field.
const FORMS = [[0, 1], [0, 4, 0x8b], [0, 5], [1, 3], [2, 6], [3, 0], [3, 1], [3, 2], [3, 3], [3, 4], [3, 5], [3, 6], [3, 7]];

export const PREFIXES_64 = [[], [0x66], [0xf3], [0xf2], [0x48], [0x66, 0x48], [0x41], [0x44], [0xf0], [0x67], [0x64]];
export const PREFIXES_32 = [[], [0x66], [0xf3], [0xf2], [0x67], [0x26]];

export const LEGACY_MAPS = [
  ['one-byte', []],
  ['0F', [0x0f]],
  ['0F38', [0x0f, 0x38]],
  ['0F3A', [0x0f, 0x3a]],
] as const;

export function opcodeEncodings(escape: readonly number[], prefixes: number[][]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let op = 0; op < 256; op++) {
    for (const prefix of prefixes) {
      for (let reg = 0; reg < 8; reg++) {
        for (const [mod, rm, sib] of FORMS) {
          const modrm = (mod << 6) | (reg << 3) | rm;
          out.push(Uint8Array.from([...prefix, ...escape, op, modrm, ...(sib === undefined ? [] : [sib]), ...TAIL]));
        }
      }
    }
  }
  return out;
}

/** MOV with every ModRM byte and every SIB byte, per mode and address-size prefix. */
export function addressingEncodings(): [Bitness, Uint8Array[]][] {
  const sets: [Bitness, Uint8Array[]][] = [];
  for (const [bitness, prefixes] of [[64, [[], [0x67], [0x43], [0x4b, 0x67]]], [32, [[], [0x67]]], [16, [[], [0x67]]]] as const) {
    const encodings: Uint8Array[] = [];
    for (const prefix of prefixes) {
      for (let modrm = 0; modrm < 256; modrm++) encodings.push(Uint8Array.from([...prefix, 0x8b, modrm, 0x24, ...TAIL]));
      for (let sib = 0; sib < 256; sib++) {
        for (const mod of [0, 1, 2]) encodings.push(Uint8Array.from([...prefix, 0x89, (mod << 6) | 0x0c, sib, ...TAIL]));
      }
    }
    sets.push([bitness, encodings]);
  }
  return sets;
}

/**
 * VEX3 over maps 0F, 0F38 and 0F3A, EVEX over those and the FP16 maps 5 and 6, with masking off (64-bit
 * code): every opcode, pp, W and L (EVEX: L'L 0-3), with vvvv unused (1111) and naming a register, over a
 * memory form (VEX also a register form; the EVEX register forms are the variants of oracle.test.ts).
 */
export function vexEncodings(): Uint8Array[] {
  const encodings: Uint8Array[] = [];
  for (const map of [1, 2, 3, 5, 6]) {
    for (let op = 0; op < 256; op++) {
      for (let pp = 0; pp < 4; pp++) {
        for (const [w, l] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
          for (const vvvv of [15, 10]) {
            if (map <= 3) {
              for (const modrm of [0x44, 0xd1]) {
                encodings.push(Uint8Array.from([0xc4, 0xe0 | map, (w << 7) | (vvvv << 3) | (l << 2) | pp, op, modrm, 0x24, ...TAIL]));
              }
            }
            for (const ll of [l, l + 2]) {
              encodings.push(Uint8Array.from([0x62, 0xf0 | map, (w << 7) | (vvvv << 3) | 0x04 | pp, (ll << 5) | 0x08, op, 0x44, 0x24, ...TAIL]));
            }
          }
        }
      }
    }
  }
  return encodings;
}

/**
 * The EVEX encodings of vexEncodings with P2 = z L'L b V' aaa set to zeroing with k1, k3 alone, EVEX.b
 * alone (broadcast, or rounding/SAE) and zeroing without a mask; each on the memory form and on a
 * register form.
 */
export function evexVariantEncodings(): Uint8Array[] {
  const variants: Uint8Array[] = [];
  for (const e of vexEncodings()) {
    if (e[0] !== 0x62) continue;
    for (const bits of [0x81, 0x03, 0x10, 0x80]) {
      const memory = e.slice();
      memory[3] = (e[3]! & 0x60) | 0x08 | bits;
      const register = memory.slice();
      register[5] = 0xd1;
      variants.push(memory, register);
    }
  }
  return variants;
}

/**
 * Every ModRM.reg value (1-7; vexEncodings has 0) of every VEX and EVEX opcode, pp, W and L, for the
 * groups that name an instruction by it (shifts by an immediate, BMI1, LDMXCSR, the gather prefetches):
 * a memory and a register form, the EVEX register form also under an opmask.
 */
export function modrmRegEncodings(): Uint8Array[] {
  const encodings: Uint8Array[] = [];
  for (const map of [1, 2, 3, 5, 6]) {
    for (let op = 0; op < 256; op++) {
      for (let pp = 0; pp < 4; pp++) {
        for (const [w, l] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
          for (let reg = 1; reg < 8; reg++) {
            const memory = 0x44 | (reg << 3);
            const register = 0xc1 | (reg << 3);
            if (map <= 3) {
              for (const modrm of [memory, register]) encodings.push(Uint8Array.from([0xc4, 0xe0 | map, (w << 7) | 0x78 | (l << 2) | pp, op, modrm, 0x24, ...TAIL]));
            }
            for (const [modrm, aaa] of [[memory, 0], [register, 0], [register, 1]]) {
              encodings.push(Uint8Array.from([0x62, 0xf0 | map, (w << 7) | 0x7c | pp, (l << 5) | 0x08 | aaa, op, modrm, 0x24, ...TAIL]));
            }
          }
        }
      }
    }
  }
  return encodings;
}
