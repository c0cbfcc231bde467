// `isola container inspect`: docker's fields for a container, State above all.
import { ContainerStore } from './store.js';
import { observe } from './observe.js';
import { defaultStoreRoot } from '@isola/image';

const ZERO_TIME = '0001-01-01T00:00:00Z';

export async function inspectContainers(refs: readonly string[], options: { root?: string } = {}): Promise<object[]> {
  const containers = new ContainerStore(options.root ?? defaultStoreRoot());
  const out: object[] = [];
  for (const ref of refs) {
    const id = containers.resolve(ref);
    const config = containers.config(id);
    const { status, state } = await observe(containers, id);
    out.push({
      Id: id, Created: config.created, Path: config.path, Args: config.args,
      State: {
        Status: status, Running: status === 'running', Paused: false, Restarting: false, OOMKilled: state.oomKilled ?? false, Dead: false,
        Pid: status === 'exited' ? 0 : state.pid, ExitCode: status === 'exited' ? (state.exitCode ?? 255) : 0, Error: state.error ?? '',
        StartedAt: state.startedAt ?? ZERO_TIME, FinishedAt: state.finishedAt ?? ZERO_TIME,
      },
      Image: `sha256:${config.imageId.replace(/^sha256:/, '')}`, LogPath: containers.path(id, 'container.log'), Name: `/${config.name}`,
      Driver: 'overlay', Platform: 'linux', MonitorPid: status === 'exited' ? 0 : state.monitorPid,
      HostConfig: { AutoRemove: config.autoRemove },
      Config: {
        Hostname: config.hostname, User: config.user, Env: config.env, Cmd: config.cmd, Image: config.image,
        WorkingDir: config.workdir, Entrypoint: config.entrypoint.length ? config.entrypoint : null,
      },
    });
  }
  return out;
}
