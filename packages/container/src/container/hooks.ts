// OCI hooks: run with the container's state on stdin, in the runtime's namespaces. A failing hook fails
// the operation, naming the hook (except poststart and poststop, which only warn, as the spec says).
import { spawn } from 'node:child_process';
import { IsolaError } from '@isola/errors';
import type { Hook, Hooks, State } from '../spec/types.js';

export type HookKind = keyof Hooks;

function runHook(kind: HookKind, index: number, hook: Hook, state: State): Promise<void> {
  const name = `hooks.${kind}[${index}] (${hook.path})`;
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

export async function runHooks(kind: HookKind, hooks: Hooks | undefined, state: State, warn?: (message: string) => void): Promise<void> {
  const list = hooks?.[kind] ?? [];
  for (let i = 0; i < list.length; i++) {
    try {
      await runHook(kind, i, list[i]!, state);
    } catch (error) {
      if (warn && (kind === 'poststart' || kind === 'poststop')) warn((error as Error).message);
      else throw error;
    }
  }
}
