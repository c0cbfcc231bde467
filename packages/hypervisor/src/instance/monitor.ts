// The process that holds a detached VM (`isola vm run -d`): started by startDetachedVm, in its own
// session, it builds and runs the VM, appends the serial output (and the --trace-mmio lines) to console.log and records in
// state.json when the VM runs and how it ended. It tells the starting CLI "running" or the error
// through fd 3, then closes it. SIGTERM or SIGINT is a power-off request, Ctrl+Alt+Del for the guest
// (a second one stops the vCPUs), and the end is recorded when the guest ends; `isola vm stop` sends
// SIGKILL if the monitor has not exited after its timeout, as docker stop does to a container. One Node process per
// detached VM: it runs the vCPU worker threads, so it cannot be a small assembly monitor like a
// container's.
//
//   node monitor.js <root> <id>
import { closeSync, openSync, writeSync } from 'node:fs';
import { IsolaError } from '@isola/errors';
import { createVm, type VmExit } from '../vm.js';
import { bootId, procStartTime } from '@isola/sys';
import { type VmRecord, VmStore } from './store.js';

const READY_FD = 3;

function report(message: { ok: true } | { error: { code: string; message: string } }): void {
  try {
    writeSync(READY_FD, `${JSON.stringify(message)}\n`);
    closeSync(READY_FD);
  } catch {
    // the CLI went away: nobody to tell
  }
}

function describeEnd(end: VmExit): string {
  return end.reason === 'exit' ? `exit ${end.status}` : end.reason;
}

const [root, id] = process.argv.slice(2);
const store = new VmStore(root);
const config = store.config(id!);
const record: VmRecord = { status: 'starting', pid: process.pid, startTime: procStartTime(process.pid) ?? 0, bootId: bootId() };
store.writeRecord(id!, record);
const log = openSync(store.path(id!, 'console.log'), 'a', 0o600);
let finished: VmRecord;
try {
  const vm = await createVm({
    memoryMiB: config.memoryMiB,
    cpus: config.cpus,
    kernel: config.kernel,
    flat: config.flat,
    initrd: config.initrd,
    cmdline: config.cmdline,
    boot: config.boot,
    console: (bytes) => void writeSync(log, bytes),
    disks: config.disks,
    rng: config.rng,
    // The trace goes where `isola vm logs` reads, between the guest's own output.
    traceMmio: config.traceMmio ? (line) => void writeSync(log, `${line}\n`) : undefined,
    onDeviceError: (device, reason) => process.stderr.write(`${device}: ${reason} (the device needs a reset)\n`),
  });
  // The first SIGTERM or SIGINT asks the guest to power off (Ctrl+Alt+Del); another one stops the
  // vCPUs. `isola vm stop` kills this process if the guest does not end within its timeout.
  let asked = false;
  const powerOff = () => {
    if (asked || vm.state === 'created') return void vm.stop().catch(() => {});
    asked = true;
    try {
      vm.requestPowerOff();
    } catch {
      // it has just ended
    }
  };
  process.on('SIGTERM', powerOff);
  process.on('SIGINT', powerOff);
  process.on('SIGHUP', () => {}); // the terminal that started it may close
  await vm.start();
  Object.assign(record, { status: 'running', startedAt: new Date().toISOString() });
  store.writeRecord(id!, record);
  report({ ok: true });
  const end = await vm.wait().then(describeEnd, (error: Error) => `error: ${error.message}`);
  finished = { ...record, status: 'stopped', finishedAt: new Date().toISOString(), end };
} catch (error) {
  const e = error instanceof IsolaError ? error : new IsolaError('EVM_MONITOR', (error as Error).message, { cause: error });
  finished = { ...record, status: 'stopped', finishedAt: new Date().toISOString(), end: `error: ${e.message}` };
  report({ error: { code: e.code, message: e.message } });
  process.exitCode = 1;
}
store.writeRecord(id!, finished);
closeSync(log);
process.exit();
