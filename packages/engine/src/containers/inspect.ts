// `isola container inspect`: docker's fields for a container, State above all.
import { ContainerStore } from './store.js';
import type { MountRecord } from '../volumes/attach.js';
import { observe } from './observe.js';
import { defaultStoreRoot } from '@isola/image';
import { inspectNetwork } from '../networks/settings.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** `SOURCE:TARGET[:ro]` as docker's HostConfig.Binds lists -v. */
function bindText(m: MountRecord): string {
  return `${m.type === 'volume' ? m.name : m.source}:${m.destination}${m.readonly ? ':ro' : ''}`;
}

/** docker inspect's Mounts entry. */
function mountInfo(m: MountRecord): object {
  return {
    Type: m.type, ...(m.type === 'volume' ? { Name: m.name, Driver: 'local' } : {}), Source: m.source, Destination: m.destination,
    Mode: m.readonly ? 'ro' : '', RW: !m.readonly, Propagation: m.type === 'bind' ? (m.propagation ?? 'rprivate') : '',
  };
}

export async function inspectContainers(refs: readonly string[], options: { root?: string } = {}): Promise<object[]> {
  const containers = new ContainerStore(options.root ?? defaultStoreRoot());
  const out: object[] = [];
  for (const ref of refs) {
    const id = containers.resolve(ref);
    const config = containers.config(id);
    const { status, state } = await observe(containers, id);
    const { NetworkSettings, NetworkMode, PortBindings } = inspectNetwork(containers.root, config);
    out.push({
      Id: id, Created: config.created, Path: config.path, Args: config.args,
      State: {
        Status: status, Running: status === 'running', Paused: false, Restarting: false, OOMKilled: state.oomKilled ?? false, Dead: false,
        Pid: status === 'exited' ? 0 : state.pid, ExitCode: status === 'exited' ? (state.exitCode ?? 255) : 0, Error: state.error ?? '',
        StartedAt: state.startedAt ?? ZERO_TIME, FinishedAt: state.finishedAt ?? ZERO_TIME,
      },
      Image: `sha256:${config.imageId.replace(/^sha256:/, '')}`, LogPath: containers.path(id, 'container.log'), Name: `/${config.name}`,
      Driver: 'overlay', Platform: 'linux', MonitorPid: status === 'exited' ? 0 : state.monitorPid,
      HostConfig: {
        AutoRemove: config.autoRemove, Binds: (config.mounts ?? []).filter((m) => m.type !== 'tmpfs').map(bindText),
        Memory: 0, MemorySwap: 0, NanoCpus: 0, CpuShares: 0, PidsLimit: null, ...config.limits,
        Tmpfs: Object.fromEntries((config.mounts ?? []).filter((m) => m.type === 'tmpfs').map((m) => [m.destination, (m.options ?? []).join(',')])),
        NetworkMode, PortBindings, Init: config.init ?? false,
      },
      Mounts: (config.mounts ?? []).map(mountInfo),
      ResolvConfPath: containers.path(id, 'resolv.conf'), HostnamePath: containers.path(id, 'hostname'), HostsPath: containers.path(id, 'hosts'),
      NetworkSettings,
      Config: {
        // As docker create and a foreground docker run set them (-i attaches stdin); isola does not
        // record -d, after which docker has all three false.
        Hostname: config.hostname, User: config.user, AttachStdin: !config.detached && (config.interactive ?? false), AttachStdout: !config.detached, AttachStderr: !config.detached,
        Tty: config.tty ?? false, OpenStdin: config.interactive ?? false, Env: config.env, Cmd: config.cmd, Image: config.image,
        WorkingDir: config.workdir, Entrypoint: config.entrypoint.length ? config.entrypoint : null,
      },
    });
  }
  return out;
}
