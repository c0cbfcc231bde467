// OCI hooks: run with the container's state on stdin. prestart, createRuntime, poststart and poststop
// run in the runtime's namespaces; createContainer and startContainer in the container's
// (hook-in-container.ts). A failing hook fails the operation, naming the hook (except poststart and
// poststop, which only warn, as the spec says).
import { IsolaError } from '@isola/errors';
import type { Hook, Hooks, State } from '../spec/types.js';
import { type ContainerTarget, runHookInContainer } from './hook-in-container.js';

export type HookKind = keyof Hooks;

async function runHook(kind: HookKind, index: number, hook: Hook, state: State): Promise<void> {
  const name = `hooks.${kind}[${index}] (${hook.path})`;
  // Loaded on demand: node:child_process (and the streams it brings) is a good part of a runtime start.
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const [argv0, ...args] = hook.args?.length ? hook.args : [hook.path];
    const child = spawn(hook.path, args, { argv0, env: Object.fromEntries((hook.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])), stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = hook.timeout ? setTimeout(() => child.kill('SIGKILL'), hook.timeout * 1000) : undefined;
    child.on('error', (error) => reject(new IsolaError('EHOOK', `${name}: ${error.message}`)));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else {
        const why = signal ? (hook.timeout && signal === 'SIGKILL' ? `timed out after ${hook.timeout} s` : `killed by ${signal}`) : `exited with status ${code}`;
        reject(new IsolaError('EHOOK', `${name} ${why}${stderr.trim() ? `: ${stderr.trim().split('\n')[0]}` : ''}`));
      }
    });
    child.stdin.on('error', () => {}); // a hook need not read its stdin
    child.stdin.end(JSON.stringify(state));
  });
}

const IN_CONTAINER: ReadonlySet<HookKind> = new Set(['createContainer', 'startContainer']);

/** `container` is where createContainer and startContainer hooks run: the container's namespaces. */
export async function runHooks(kind: HookKind, hooks: Hooks | undefined, state: State, warn?: (message: string) => void, container?: ContainerTarget): Promise<void> {
  const list = hooks?.[kind] ?? [];
  if (list.length && IN_CONTAINER.has(kind) && !container) throw new Error(`hooks.${kind} run in the container's namespaces: a container is needed`);
  for (let i = 0; i < list.length; i++) {
    try {
      if (IN_CONTAINER.has(kind)) await runHookInContainer(`hooks.${kind}[${i}] (${list[i]!.path})`, list[i]!, state, container!);
      else await runHook(kind, i, list[i]!, state);
    } catch (error) {
      if (warn && (kind === 'poststart' || kind === 'poststop')) warn((error as Error).message);
      else throw error;
    }
  }
}
