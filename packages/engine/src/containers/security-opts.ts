// `--security-opt` and `--env-file`, as docker reads them. Both are checked before anything exists.
import { readFileSync } from 'node:fs';
import { IsolaError } from '@isola/errors';
import type { Spec } from '@isola/container';

type Seccomp = NonNullable<NonNullable<Spec['linux']>['seccomp']>;

export interface SecurityOptions {
  /** false: unconfined; an object: the profile from a file; undefined: isola's default (Docker's). */
  seccomp?: false | Seccomp;
  noNewPrivileges?: boolean;
}

export function parseSecurityOpts(values: readonly string[] = []): SecurityOptions {
  const out: SecurityOptions = {};
  for (const value of values) {
    const [key, arg] = value.includes('=') ? [value.slice(0, value.indexOf('=')), value.slice(value.indexOf('=') + 1)] : value.split(':', 2) as [string, string | undefined];
    if (key === 'seccomp' && arg === 'unconfined') out.seccomp = false;
    else if (key === 'seccomp' && arg) out.seccomp = readProfile(arg);
    else if (key === 'no-new-privileges' && (arg === undefined || arg === 'true' || arg === 'false')) out.noNewPrivileges = arg !== 'false';
    // Confinement isola never applies: asking to go without it changes nothing.
    else if ((key === 'apparmor' && arg === 'unconfined') || (key === 'label' && arg === 'disable')) continue;
    else throw new IsolaError('EUSAGE', `--security-opt ${JSON.stringify(value)}: supported are seccomp=unconfined, seccomp=PROFILE.json, no-new-privileges[:true|false], apparmor=unconfined, label=disable`);
  }
  return out;
}

function readProfile(path: string): Seccomp {
  let profile: unknown;
  try {
    profile = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new IsolaError('EUSAGE', `--security-opt seccomp=${path}: cannot read the profile: ${reason}`);
  }
  if (typeof profile !== 'object' || profile === null || typeof (profile as { defaultAction?: unknown }).defaultAction !== 'string') {
    throw new IsolaError('EUSAGE', `--security-opt seccomp=${path}: not a seccomp profile (no "defaultAction")`);
  }
  for (const key of ['archMap', 'includes', 'excludes']) {
    if (JSON.stringify(profile).includes(`"${key}"`)) {
      throw new IsolaError('EUSAGE', `--security-opt seccomp=${path}: "${key}" is Docker's profile format; give the OCI form (defaultAction, architectures, syscalls with names, action, args)`);
    }
  }
  return profile as Seccomp;
}

/** docker's --env-file: NAME=value lines, or NAME to pass this process's value on; # comments, blank lines. */
export function readEnvFiles(paths: readonly string[] = []): string[] {
  const env: string[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new IsolaError('EUSAGE', `--env-file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    text.split('\n').forEach((raw, i) => {
      const line = raw.replace(/^\s+/, '').replace(/\r$/, '');
      if (line === '' || line.startsWith('#')) return;
      const name = line.includes('=') ? line.slice(0, line.indexOf('=')) : line.trimEnd();
      if (!/^[^\s=]+$/.test(name)) throw new IsolaError('EUSAGE', `--env-file ${path}, line ${i + 1}: "${name}" is not a variable name`);
      env.push(line.includes('=') ? line : name);
    });
  }
  return env;
}
