// What a running container costs the host beyond its workload: the monitor that reaps it and keeps its
// log (packages/engine/src/monitor), measured on a detached `sleep` container (`isola run -d`, so the
// monitor is the one users get) that is removed after.
import { inspectContainers, removeContainers } from '@isola/engine';
import { isola } from '../cli.js';
import { type ProcessMemory, processMemory } from '../host/proc.js';

export interface ContainerMemory {
  monitor: ProcessMemory;
  workload: ProcessMemory;
}

export async function measureContainerMemory(root?: string): Promise<ContainerMemory> {
  const id = (await isola(['run', '-d', '--rm', '--network', 'none', 'busybox', 'sleep', '60'], root)).trim();
  try {
    const [info] = (await inspectContainers([id], { root })) as Array<{ State: { Pid: number }; MonitorPid: number }>;
    return { monitor: processMemory(info.MonitorPid), workload: processMemory(info.State.Pid) };
  } finally {
    await removeContainers([id], { root, force: true });
  }
}
