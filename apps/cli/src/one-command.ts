// The start-up fast path. oclif loads its command table on every start and, with no manifest file,
// caches the flags of every command in it (~80 here: ~10 ms, the largest part of oclif's own start
// after loading). A command named by a one-word id as the first argument (`isola run ...`,
// `isola ps -a`) cannot mean anything else, so oclif is given a table holding that command alone,
// through the same package.json settings: parsing, help, hooks and errors are oclif's as always.
// Topics (`vm run`, `img info`...) and everything else get the full table.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command, Interfaces } from '@oclif/core';
import { COMMANDS } from './commands.js';

/** The one-command table: filled in before oclif loads it (package.json's `identifier` is swapped for this name). */
export const ONE_COMMAND: Record<string, Command.Class> = {};

/** The id `args` unambiguously starts with, if any: a command that is not also a topic. */
export function soleCommand(args: readonly string[], commands: Readonly<Record<string, unknown>> = COMMANDS): string | undefined {
  const word = args[0];
  if (word === undefined || !/^[a-z][a-z0-9-]*$/.test(word) || !Object.hasOwn(commands, word)) return undefined;
  return Object.keys(commands).some((id) => id.startsWith(`${word}:`)) ? undefined : word;
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
