// Bundles the monitor and the vCPU worker into one ES module each, dist/hypervisor.mjs and
// dist/vcpu-worker.mjs: a launch spends longer resolving and loading the ~100 small modules of
// @isola/hypervisor, @isola/sys and @isola/qcow2 than building the machine, and every vCPU worker
// (a V8 isolate of its own) pays its share again. thread.ts finds vcpu-worker.mjs
// next to the bundle, instance/start.ts the detached VM's monitor process, vm-monitor.mjs.
// @isola/errors stays shared (callers check its class), @isola/wasm loads its .wasm files relative
// to its own dist (and only when an instruction needs emulating), @isola/qcow2 (which imports
// @isola/wasm) only when a VM has disks, koffi is native.
import { build } from 'rolldown';

const external = [/^node:/, '@isola/errors', '@isola/wasm', '@isola/qcow2', 'koffi'];
for (const [input, file] of [
  ['dist/index.js', 'dist/hypervisor.mjs'],
  ['dist/vcpu/worker.js', 'dist/vcpu-worker.mjs'],
  ['dist/instance/monitor.js', 'dist/vm-monitor.mjs'],
]) {
  await build({ input, platform: 'node', external, treeshake: true, logLevel: 'warn', output: { file, format: 'esm', codeSplitting: false } });
}
