// The x86 emulator (@isola/wasm) as the vCPU loop sees it. A vCPU worker loads it in the background
// rather than before its first KVM_RUN: importing @isola/wasm costs a worker 30-180 ms here, on the
// launch path of every VM, while most guests never need it. The runner asks for it at the first
// emulation failure and, if it is still loading, waits for it (vcpu/worker.ts).
import type * as wasm from '@isola/wasm';

export type Emulator = Pick<typeof wasm, 'decodeOne' | 'emulate' | 'formatInstruction'>;

export function loadEmulator(): Promise<Emulator> {
  return import('@isola/wasm');
}
