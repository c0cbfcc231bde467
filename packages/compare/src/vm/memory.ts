// What a running microVM costs the host: the VMM process (`isola vm run`, its own Node process as
// Firecracker's is its own), measured while the guest spins, then stopped by its PID.
import { spawn } from 'node:child_process';
import { IsolaError } from '@isola/errors';
import { CLI } from '../cli.js';
import { type ProcessMemory, processMemory } from '../host/proc.js';
import { GUEST_MEMORY_MIB } from './run.js';

export interface VmMemory {
  vmm: ProcessMemory;
  guestMemoryMiB: number;
}

export async function measureVmMemory(guest: string): Promise<VmMemory> {
  // loop=10^12: the guest spins far longer than the measurement takes.
  const child = spawn(process.execPath, [CLI, 'vm', 'run', '--kernel', guest, '--mem', String(GUEST_MEMORY_MIB), '--cmdline', 'loop=1000000000000'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  try {
    let seen = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new IsolaError('ECOMPARE', `isola vm run: no "hello" from the guest in 30 s${stderr ? `: ${stderr.trim().split('\n')[0]}` : ''}`)), 30_000);
      child.stdout.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('hello')) clearTimeout(timer), resolve();
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        reject(new IsolaError('ECOMPARE', `isola vm run ended (status ${code}) before its guest said hello${stderr ? `: ${stderr.trim().split('\n')[0]}` : ''}`));
      });
    });
    return { vmm: processMemory(child.pid as number), guestMemoryMiB: GUEST_MEMORY_MIB };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  }
}
