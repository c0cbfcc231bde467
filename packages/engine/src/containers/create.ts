// `isola create` (and the first half of `run`): a container record from an image. The image's layers
// become the rootfs (overlay), its config (Entrypoint, Cmd, Env, WorkingDir, User) and the flags become
// an OCI spec with isola's default security profile. No process exists yet: start.ts makes it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { IsolaError } from '@isola/errors';
import { containerSpec } from '@isola/container';
import { ImageStore, createRootfs } from '@isola/image';
import { findImage, parsePullPolicy } from './image.js';
import { parseSecurityOpts, readEnvFiles } from './security-opts.js';
import { type ContainerConfig, ContainerStore } from './store.js';
import { removeContainer } from './remove.js';
import { volatileOverlayOps } from './volatile-rootfs.js';
import { applyInit } from '../init/init.js';
import { terminalSize } from '../tty/terminal.js';
import { type LimitOptions, parseLimits } from '../limits/parse.js';
import { limitHost } from '../limits/host.js';
import { type MountFlags, parseMountFlags } from '../volumes/mount-spec.js';
import { checkBindSources, prepareMounts, withUserMounts } from '../volumes/attach.js';
import { VolumeStore } from '../volumes/store.js';
import { type NetworkFlags, planNetwork } from '../networks/mode.js';
import { applyNetwork, attachNetwork } from '../networks/attach.js';
import { mark } from '../timing/mark.js';

export interface CreateOptions extends MountFlags, LimitOptions, NetworkFlags {
  image: string;
  /** Replaces the image's Cmd (docker's `run IMAGE [COMMAND...]`). */
  command?: string[];
  entrypoint?: string;
  env?: string[];
  workdir?: string;
  user?: string;
  name?: string;
  hostname?: string;
  readOnly?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  /** Remove the container when it exits (--rm). */
  autoRemove?: boolean;
  /** Run the command under isola's init as PID 1 (--init: init/init.S). */
  init?: boolean;
  /** Keep stdin open (-i) and give the container a pseudo-terminal (-t) of this size, if known. */
  interactive?: boolean;
  tty?: boolean;
  consoleSize?: { height: number; width: number };
  /** run -d: nothing is attached (inspect's Config.Attach* are false, as docker's). */
  detach?: boolean;
  /** docker's --env-file: read before -e, which wins. */
  envFile?: string[];
  /** docker's --security-opt (security-opts.ts). */
  securityOpt?: string[];
  /** When to pull the image (docker's --pull): missing (the default), always, never. */
  pull?: string;
  /** isola's state directory (`$ISOLA_ROOT`, /var/lib/isola as root). */
  root?: string;
}

interface ImageRuntimeConfig {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
  ExposedPorts?: Record<string, unknown>;
}

function parseUser(user: string | undefined): { uid: number; gid: number } {
  if (!user) return { uid: 0, gid: 0 };
  const [uid, gid] = user.split(':');
  if (!/^\d+$/.test(uid ?? '') || (gid !== undefined && !/^\d+$/.test(gid))) {
    throw new IsolaError('EUSAGE', `--user ${JSON.stringify(user)}: only numeric uid[:gid] is supported yet`);
  }
  return { uid: Number(uid), gid: Number(gid ?? uid) };
}

function mergeEnv(base: readonly string[], extra: readonly string[]): string[] {
  const env = new Map(base.map((e) => [e.slice(0, e.indexOf('=') >>> 0), e] as const));
  for (const e of extra) {
    const key = e.includes('=') ? e.slice(0, e.indexOf('=')) : e;
    env.set(key, e.includes('=') ? e : `${e}=${process.env[e] ?? ''}`);
  }
  return [...env.values()];
}

export async function openStores(root?: string): Promise<{ images: ImageStore; containers: ContainerStore }> {
  const images = await ImageStore.open({ root });
  return { images, containers: new ContainerStore(images.root) };
}

/**
 * Makes the record, rootfs and bundle of a new container; returns its config. Leaves nothing on failure.
 * `stores`: the caller's, when it has opened them already (run uses them afterwards too).
 */
export async function createFromImage(options: CreateOptions, stores?: Awaited<ReturnType<typeof openStores>>): Promise<ContainerConfig> {
  // Every flag is checked before anything exists: a bad value leaves nothing behind.
  const mountRequests = parseMountFlags(options);
  checkBindSources(mountRequests);
  const { resources, limits } = parseLimits(options, limitHost());
  const pullPolicy = parsePullPolicy(options.pull);
  const security = parseSecurityOpts(options.securityOpt);
  const fileEnv = readEnvFiles(options.envFile);
  mark('flags checked');
  const { images, containers } = stores ?? (await openStores(options.root));
  mark('stores open');
  const resolved = await findImage(images, options.image, pullPolicy);
  const image = ((await images.readConfig(resolved.record)).config ?? {}) as ImageRuntimeConfig;
  mark('image found');
  const entrypoint = options.entrypoint !== undefined ? (options.entrypoint ? [options.entrypoint] : []) : (image.Entrypoint ?? []);
  const cmd = options.command?.length ? options.command : options.entrypoint !== undefined ? [] : (image.Cmd ?? []);
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw new IsolaError('EUSAGE', `image ${options.image} has no command: give one after the image name`);
  const user = parseUser(options.user ?? image.User);

  const network = planNetwork(options, containers.root, image.ExposedPorts);
  const { id, name } = containers.claim(options.name);
  const config: ContainerConfig = {
    id, name, image: options.image, imageId: resolved.record.config, created: new Date().toISOString(),
    path: args[0]!, args: args.slice(1), entrypoint, cmd,
    env: mergeEnv(image.Env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], [...fileEnv, ...(options.env ?? [])]),
    workdir: options.workdir ?? (image.WorkingDir || '/'), user: `${user.uid}:${user.gid}`,
    hostname: options.hostname ?? id.slice(0, 12), autoRemove: options.autoRemove ?? false,
    ...(options.init ? { init: true } : {}), ...(options.interactive ? { interactive: true } : {}), ...(options.tty ? { tty: true } : {}),
    ...(options.detach ? { detached: true } : {}),
  };
  const volumes = new VolumeStore(containers.root);
  const madeVolumes: string[] = [];
  try {
    config.network = network;
    const attached = await attachNetwork(containers, config, network);
    mark('network attached');
    const rootfs = await createRootfs(images, options.image, id, options.autoRemove ? { ops: volatileOverlayOps() } : {});
    mark('rootfs mounted');
    config.mounts = prepareMounts(volumes, mountRequests, rootfs.path, madeVolumes);
    if (Object.keys(resources).length) config.limits = limits;
    const spec = containerSpec({
      args, env: config.env, cwd: config.workdir, hostname: config.hostname,
      capAdd: options.capAdd, capDrop: options.capDrop, readOnly: options.readOnly, seccomp: security.seccomp !== false,
    });
    if (security.seccomp) spec.linux!.seccomp = security.seccomp;
    if (security.noNewPrivileges !== undefined) spec.process!.noNewPrivileges = security.noNewPrivileges;
    spec.root = { path: rootfs.path, readonly: options.readOnly ?? false };
    spec.process!.user = user;
    applyNetwork(spec, attached);
    spec.linux!.cgroupsPath = `/isola/${id}`;
    if (options.tty) Object.assign(spec.process!, { terminal: true, consoleSize: options.consoleSize ?? terminalSize() });
    if (options.init) applyInit(spec, { root: containers.root, rootfs: rootfs.path });
    spec.mounts = withUserMounts(spec.mounts ?? [], config.mounts);
    spec.linux!.resources = { ...spec.linux!.resources, ...resources };
    mkdirSync(containers.bundle(id), { recursive: true });
    writeFileSync(`${containers.bundle(id)}/config.json`, JSON.stringify(spec, null, 2));
    containers.writeConfig(config);
    mark('bundle written');
  } catch (error) {
    containers.writeConfig(config);
    await removeContainer(containers, images, id, { force: true }).catch(() => {});
    for (const name of madeVolumes) {
      try {
        volumes.remove(name);
      } catch {
        // a concurrent `volume rm` got there first
      }
    }
    throw error;
  }
  return config;
}
