// A RunPage over a plain buffer that plays a script of exits, for tests of the vCPU loop without KVM.
// Each run() writes the next exit into the page as KVM lays it out; as KVM does at the next KVM_RUN,
// it first takes the answer of a port or MMIO read from the page (into that exit's `data`).
import { IO_DATA_OFFSET, RunPage, encodeExit, structs, type VcpuExit } from '@isola/sys';

const s = structs.kvm_run;
const PAGE_BYTES = 3 * 4096;

export type ScriptedExit = VcpuExit | (() => VcpuExit);

/** A page that plays `script`; running past its end fails the test. */
export function scriptedRunPage(script: ScriptedExit[]): RunPage {
  const bytes = new Uint8Array(PAGE_BYTES);
  let last: VcpuExit | undefined;
  return new RunPage(bytes, () => {
    if (last?.kind === 'io' && last.direction === 'in') last.data.set(bytes.subarray(IO_DATA_OFFSET, IO_DATA_OFFSET + last.data.length));
    if (last?.kind === 'mmio' && !last.isWrite) last.data.set(bytes.subarray(s['mmio.data'], s['mmio.data'] + last.data.length));
    const next = script.shift();
    if (!next) throw new Error('the script ran out of exits');
    last = typeof next === 'function' ? next() : next;
    encodeExit(bytes, last);
  });
}
