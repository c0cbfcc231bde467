// `isola run`: a container from an image, in the foreground. The image's layers become the rootfs
// (overlay), its config (Entrypoint, Cmd, Env, WorkingDir, User) and the flags become an OCI spec with
// isola's default security profile, and @isola/container runs it. Containers are removed when they
// exit, as with --rm.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IsolaError } from '@isola/errors';
import { containerSpec, runContainer } from '@isola/container';
import { ImageStore, createRootfs, removeRootfs } from '@isola/image';
import { importDefaultImage } from './default-image.js';

export interface RunOptions {
  image: string;
  /** Replaces the image's Cmd (docker's `run IMAGE [COMMAND...]`). */
  command?: string[];
  entrypoint?: string;
  env?: string[];
  workdir?: string;
  user?: string;
  name?: string;
  hostname?: string;
  /** `none` (only loopback, the default until bridge networks land) or `host`. */
  network?: 'none' | 'host';
  readOnly?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  /** isola's state directory (`$ISOLA_ROOT`, /var/lib/isola as root). */
  root?: string;
}

interface ImageRuntimeConfig {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
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

/** Runs the container to its end; returns its exit status. */
export async function runImage(options: RunOptions): Promise<number> {
  const store = await ImageStore.open({ root: options.root });
  let resolved;
  try {
    resolved = await store.resolve(options.image);
  } catch (error) {
    if (!(await importDefaultImage(store, options.image))) throw error;
    resolved = await store.resolve(options.image);
  }
  const config = ((await store.readConfig(resolved.record)).config ?? {}) as ImageRuntimeConfig;
  const entrypoint = options.entrypoint !== undefined ? (options.entrypoint ? [options.entrypoint] : []) : (config.Entrypoint ?? []);
  const cmd = options.command?.length ? options.command : options.entrypoint !== undefined ? [] : (config.Cmd ?? []);
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw new IsolaError('EUSAGE', `image ${options.image} has no command: give one after the image name`);

  const id = options.name ?? randomBytes(6).toString('hex');
  const rootfs = await createRootfs(store, options.image, id);
  const bundle = join(store.root, 'bundles', id);
  try {
    mkdirSync(bundle, { recursive: true });
    const spec = containerSpec({
      args,
      env: mergeEnv(config.Env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], options.env ?? []),
      cwd: options.workdir ?? (config.WorkingDir || '/'),
      hostname: options.hostname ?? id.slice(0, 12),
      capAdd: options.capAdd,
      capDrop: options.capDrop,
      readOnly: options.readOnly,
    });
    spec.root = { path: rootfs.path, readonly: options.readOnly ?? false };
    spec.process!.user = parseUser(options.user ?? config.User);
    if (options.network === 'host') spec.linux!.namespaces = spec.linux!.namespaces!.filter((ns) => ns.type !== 'network');
    spec.linux!.cgroupsPath = `/isola/${id}`;
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
    return await runContainer({ id, bundle, root: join(store.root, 'runtime'), spec });
  } finally {
    await removeRootfs(store, id).catch(() => {});
    rmSync(bundle, { recursive: true, force: true });
  }
}
