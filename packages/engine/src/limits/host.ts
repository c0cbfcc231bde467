// The two host facts the limits depend on: how many CPUs there are, and whether the v1 memory
// controller accounts swap (docker then gives a container as much swap as memory by default).
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export function limitHost(): { cpus: number; swapAccounting: boolean } {
  return { cpus: availableParallelism(), swapAccounting: existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes') };
}
