// What the CLI's container commands call: each takes the names or ids the user typed.
import { IsolaError } from '@isola/errors';
import { type CreateOptions, createFromImage, openStores } from './containers/create.js';
import { showLogs, type LogsOptions } from './containers/logs.js';
import { removeContainer } from './containers/remove.js';
import { signalContainer, stopContainer, waitForExit } from './containers/signal.js';
import { Launcher, launchContainer, startCreated } from './containers/start.js';

/** `options.launcher`: one the caller started early (as `isola create` does before it loads the engine). */
export async function createContainerFromImage(options: CreateOptions & { launcher?: Launcher }): Promise<string> {
  const launcher = options.launcher ?? new Launcher();
  let config;
  try {
    config = await createFromImage(options);
  } catch (error) {
    launcher.cancel();
    throw error;
  }
  const { images, containers } = await openStores(options.root);
  try {
    await launchContainer(containers, config.id, 'create', launcher);
  } catch (error) {
    await removeContainer(containers, images, config.id, { force: true }).catch(() => {});
    throw error;
  }
  return config.id;
}

/** Runs `each` for every ref; the first failure is thrown after all were tried (docker goes on too). */
async function forEach(refs: readonly string[], root: string | undefined, each: (ctx: Awaited<ReturnType<typeof openStores>>, id: string) => Promise<void>): Promise<void> {
  const stores = await openStores(root);
  const failures: unknown[] = [];
  for (const ref of refs) {
    try {
      await each(stores, stores.containers.resolve(ref));
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) {
    throw new IsolaError('EMULTIPLE', failures.map((f) => (f instanceof Error ? f.message : String(f))).join('; '));
  }
}

export async function startContainers(refs: readonly string[], options: { root?: string } = {}): Promise<void> {
  await forEach(refs, options.root, ({ containers }, id) => startCreated(containers, id));
}

export async function stopContainers(refs: readonly string[], options: { root?: string; timeout?: number } = {}): Promise<void> {
  await forEach(refs, options.root, async ({ containers }, id) => void (await stopContainer(containers, id, options.timeout ?? 10)));
}

export async function killContainers(refs: readonly string[], options: { root?: string; signal?: string } = {}): Promise<void> {
  await forEach(refs, options.root, ({ containers }, id) => signalContainer(containers, id, options.signal ?? 'SIGKILL'));
}

export async function removeContainers(refs: readonly string[], options: { root?: string; force?: boolean; volumes?: boolean } = {}): Promise<void> {
  await forEach(refs, options.root, ({ containers, images }, id) => removeContainer(containers, images, id, { force: options.force, volumes: options.volumes }));
}

/** Each container's exit code, in order. */
export async function waitContainers(refs: readonly string[], options: { root?: string } = {}): Promise<number[]> {
  const codes: number[] = [];
  await forEach(refs, options.root, async ({ containers }, id) => void codes.push((await waitForExit(containers, id)).state.exitCode ?? 255));
  return codes;
}

export async function containerLogs(ref: string, options: LogsOptions & { root?: string }): Promise<void> {
  const { containers } = await openStores(options.root);
  await showLogs(containers, containers.resolve(ref), options);
}
