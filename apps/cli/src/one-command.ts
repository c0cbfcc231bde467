// The start-up fast path. oclif loads its command table on every start and, with no manifest file,
// caches the flags of every command in it (~80 here: ~10 ms, the largest part of oclif's own start
// after loading). A command named by its whole id at the start of the arguments (`isola run ...`,
// `isola ps -a`, `isola img convert ...`) cannot mean anything else when no longer id begins with it,
// so oclif is given a table holding that command alone, through the same package.json settings:
// parsing, help, hooks and errors are oclif's as always. Everything else (a topic alone, `--help`,
// flags before the command word) gets the full table.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command, Interfaces } from '@oclif/core';
import { COMMANDS } from './commands.js';

/** The one-command table: filled in before oclif loads it (package.json's `identifier` is swapped for this name). */
export const ONE_COMMAND: Record<string, Command.Class> = {};

/**
 * The id `args` unambiguously starts with, if any: the command its first word names (`run`), or its
 * first two (`img convert` is `img:convert`), when no other command's id starts with that one.
 */
export function soleCommand(args: readonly string[], commands: Readonly<Record<string, unknown>> = COMMANDS): string | undefined {
  const word = /^[a-z][a-z0-9-]*$/;
  let id = '';
  for (const arg of args.slice(0, 2)) {
    if (!word.test(arg)) return undefined;
    id = id === '' ? arg : `${id}:${arg}`;
    const longer = Object.keys(commands).some((other) => other.startsWith(`${id}:`));
    if (!longer) return Object.hasOwn(commands, id) ? id : undefined;
  }
  return undefined;
}

/** oclif's load options for `args`: the package with a one-command table, or undefined for the full one. */
export function oneCommandOptions(args: readonly string[], binUrl: string): Interfaces.Options | undefined {
  const id = soleCommand(args);
  if (!id) return undefined;
  const root = fileURLToPath(new URL('..', binUrl));
  const pjson = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as Interfaces.PJSON;
  const commands = pjson.oclif?.commands;
  if (typeof commands !== 'object' || commands.strategy !== 'explicit' || commands.identifier !== 'COMMANDS') return undefined;
  ONE_COMMAND[id] = COMMANDS[id as keyof typeof COMMANDS] as Command.Class;
  pjson.oclif = { ...pjson.oclif, commands: { ...commands, identifier: 'ONE_COMMAND' } };
  return { root: root.replace(/\/$/, ''), pjson };
}
