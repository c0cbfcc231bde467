// `isola vm run -d`: create the VM's directory, start its monitor process (monitor.ts) in a session of
// its own, and wait until it says the VM runs, or why it could not start. On failure nothing is left:
// the monitor is gone and the directory and name are removed.
import { existsSync, openSync, closeSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IsolaError } from '@isola/errors';
import { hypervisorError } from '../errors.js';
import { type VmConfig, VmStore } from './store.js';
import type { DiskOptions } from '../devices/virtio-blk/disk-spec.js';

export interface DetachedVmOptions {
  name?: string;
  cpus?: number;
  memoryMiB: number;
  kernel?: string;
  flat?: string;
  initrd?: string;
  cmdline?: string;
  /** How to enter an ELF kernel (VmOptions.boot). */
  boot?: 'pvh' | 'linux64';
  disks?: DiskOptions[];
  rng?: boolean;
  /** Trace each MMIO access into the VM's log (console.log, `isola vm logs`). */
  traceMmio?: boolean;
  /** isola's state directory; $ISOLA_ROOT or /var/lib/isola by default. */
  root?: string;
}

/** dist/vm-monitor.mjs next to the bundle, dist/instance/monitor.js next to this file, or (from src/ under vitest) the built one. */
function monitorPath(): string {
  for (const candidate of ['./vm-monitor.mjs', './monitor.js', '../../dist/instance/monitor.js']) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw hypervisorError('EVM_MONITOR', 'the VM monitor (dist/instance/monitor.js) is missing: build @isola/hypervisor (npm run build)', {});
}

/**
 * node:child_process, loaded when a detached VM starts: it is not in Node's startup snapshot, and
 * loading it cost every `createVm` launch 8-26 ms here for a module only `vm run -d` uses.
 */
const childProcess = () => import('node:child_process');

export async function startDetachedVm(options: DetachedVmOptions): Promise<VmConfig> {
  if (!options.kernel === !options.flat) throw hypervisorError('EVM_CONFIG', 'give exactly one of kernel or flat', {});
  const store = new VmStore(options.root);
  const abs = (path: string | undefined) => (path === undefined ? undefined : resolve(path));
  const config = store.create({
    name: options.name,
    cpus: options.cpus ?? 1,
    memoryMiB: options.memoryMiB,
    kernel: abs(options.kernel),
    flat: abs(options.flat),
    initrd: abs(options.initrd),
    cmdline: options.cmdline,
    boot: options.boot,
    disks: options.disks?.map((disk) => ({ ...disk, path: resolve(disk.path) })),
    rng: options.rng,
    traceMmio: options.traceMmio,
  });
  let pid: number | undefined;
  try {
    const { spawn } = await childProcess();
    const stderr = openSync(store.path(config.id, 'monitor.log'), 'a', 0o600);
    const child = spawn(process.execPath, [monitorPath(), store.root, config.id], { detached: true, stdio: ['ignore', 'ignore', stderr, 'pipe'] });
    closeSync(stderr);
    pid = child.pid;
    const ready = child.stdio[3] as NodeJS.ReadableStream;
    let text = '';
    ready.setEncoding('utf8');
    ready.on('data', (chunk: string) => (text += chunk));
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    // EOF comes when the monitor closes fd 3 after reporting, or when it dies.
    await new Promise<void>((done) => ready.once('end', () => done()));
    const message = text ? (JSON.parse(text.split('\n')[0]!) as { ok?: true; error?: { code: string; message: string } }) : undefined;
    if (message?.ok) {
      // From here on the monitor lives on its own: nothing of it keeps this process alive.
      (ready as unknown as { destroy(): void }).destroy();
      child.unref();
      return config;
    }
    // The monitor reported an error, or died first: wait until it is gone (the child handle keeps this
    // process alive meanwhile), then clean up.
    await exited;
    pid = undefined;
    throw message?.error ? new IsolaError(message.error.code, message.error.message) : hypervisorError('EVM_MONITOR', `the VM monitor exited before the VM ran (see ${store.path(config.id, 'monitor.log')})`, {});
  } catch (error) {
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    store.remove(config.id);
    throw error;
  }
}
