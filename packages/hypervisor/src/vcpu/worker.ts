// The entry of a vCPU worker_thread (loaded from dist/ by thread.ts). It owns the vCPU while the VM
// runs: builds the legacy devices, runs the loop, and reports how the guest ended. The thread is
// spawned before the machine exists (loading Node and koffi here takes longer than building the VM),
// so it first waits for its vCPU in an 'init' message.
// The x86 emulator is loaded only when the guest first needs it (emulation/emulator.ts).
import { once } from 'node:events';
import { parentPort, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { VcpuFd, VmFd, gettid } from '@isola/sys';
import { loadEmulator, type Emulator } from '../emulation/emulator.js';
import { hypervisorError } from '../errors.js';
import { CTRL_ALT_DEL } from '../devices/i8042/device.js';
import { GuestMemory } from '../machine/memory.js';
import { buildPlatform } from '../machine/platform.js';
import type { MainMessage, VcpuWorkerData, WorkerEvent } from './protocol.js';
import { ByteRing } from './ring.js';
import { VcpuRunner } from './runner.js';

const post = (event: WorkerEvent) => parentPort!.postMessage(event);
// The emulator loads at the first instruction KVM cannot execute (or before the guest runs, for a trace).
let emulator: Promise<Emulator | Error> | undefined;
const loadOnce = () => (emulator ??= loadEmulator().catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))));
post({ type: 'loaded' });
const [data] = (await once(parentPort!, 'message')) as [VcpuWorkerData & { inbox: MessagePort }];

const vcpu = new VcpuFd(data.vcpuFd, data.vcpuId, data.mmapSize);
const vm = new VmFd(data.vmFd, data.mmapSize);
const memory = GuestMemory.attach(data.memory);
const output = new ByteRing(data.console);
const control = new Int32Array(data.control);

let runner: VcpuRunner;
const platform = buildPlatform(data.platform, {
  consoleOutput: (byte) => output.write(byte),
  irqLine: (irq, level) => vm.irqLine(irq, level),
  exit: (status) => runner.end({ reason: 'exit', status }),
  reset: () => runner.end({ reason: 'reset' }),
});
runner = new VcpuRunner(vcpu, vcpu.page, memory, platform, control, {
  onKick() {
    for (let m = receiveMessageOnPort(data.inbox); m; m = receiveMessageOnPort(data.inbox)) {
      const message = m.message as MainMessage;
      if (message.type === 'input') platform.serial.receive(message.bytes);
      else if (message.type === 'ctrl-alt-del') platform.i8042.keyboard(CTRL_ALT_DEL);
    }
  },
  onPause: () => post({ type: 'paused' }),
  onResume: () => post({ type: 'resumed' }),
  onEmulated: (instruction) => post({ type: 'emulated', instruction }),
  ...(data.traceMmio ? { onMmio: (line: string) => post({ type: 'mmio', line }) } : {}),
});
// A trace disassembles every access, from the first: the emulator must be there before the guest runs.
if (data.traceMmio) {
  const loaded = await loadOnce();
  if (!(loaded instanceof Error)) runner.provideEmulator(loaded);
}

post({ type: 'ready', tid: gettid() });
let end = runner.run();
while (end === 'needs-emulator') {
  const loaded = await loadOnce();
  if (loaded instanceof Error) {
    const e = hypervisorError('EVCPU_EMULATION', `vCPU ${data.vcpuId}: cannot load the x86 emulator (@isola/wasm): ${loaded.message}`, {}, loaded);
    runner.end({ reason: 'error', code: e.code, message: e.message, details: e.details });
  } else runner.provideEmulator(loaded);
  end = runner.run();
}
vcpu.close();
post({ type: 'end', end, counts: runner.counts });
data.inbox.close();
