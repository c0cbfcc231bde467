// The x86 emulator (@isola/wasm) as the vCPU loop sees it. A vCPU worker loads it at the first
// emulation failure, not before: importing @isola/wasm costs a worker 30-180 ms of CPU (and ~1 MiB of
// RSS), which, in the background, still competed with the launch and the guest's first instructions
// for this machine's two cores, while most guests never need it. The runner stops at that
// failure, the worker loads the emulator and runs the runner again (vcpu/worker.ts).
import type * as wasm from '@isola/wasm';

export type Emulator = Pick<typeof wasm, 'decodeOne' | 'emulate' | 'formatInstruction'>;

export function loadEmulator(): Promise<Emulator> {
  return import('@isola/wasm');
}
