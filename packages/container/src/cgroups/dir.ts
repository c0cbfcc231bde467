// One cgroup directory and its interface files. Every controller reads and writes through this, so a
// failed write always names the config field, the value, the file and the errno, and tests can point it
// at a fake cgroupfs tree in a temp dir. cgroupfs files are tiny and answer at once, so synchronous I/O
// is both simpler and faster than the promise API here.
import { closeSync, constants, existsSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { IsolaError } from '@isola/errors';

/** One write as it reached the kernel (or the fake tree): tests assert on the sequence. */
export interface CgroupWrite {
  file: string;
  value: string;
}

export class CgroupDir {
  /** `journal`, when given, receives every successful write in order. */
  constructor(
    readonly path: string,
    private readonly journal?: CgroupWrite[],
  ) {}

  /** A child directory sharing this one's journal. */
  child(name: string): CgroupDir {
    return new CgroupDir(join(this.path, name), this.journal);
  }

  file(name: string): string {
    return join(this.path, name);
  }

  exists(name: string): boolean {
    return existsSync(this.file(name));
  }

  /** The child cgroups (the directories among the interface files); empty when it is gone. */
  children(): CgroupDir[] {
    try {
      return readdirSync(this.path, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => this.child(e.name));
    } catch {
      return [];
    }
  }

  /** The names in this directory (interface files and child cgroups); empty when it is gone. */
  list(): string[] {
    try {
      return readdirSync(this.path);
    } catch {
      return [];
    }
  }

  read(name: string): string {
    try {
      return readFileSync(this.file(name), 'utf8').trim();
    } catch (error) {
      throw new IsolaError('ECGROUP', `read ${this.file(name)}: ${errnoOf(error)}`, { cause: error, details: { path: this.file(name) } });
    }
  }

  /** The file's text, or undefined when this kernel or controller does not provide it. */
  readOptional(name: string): string | undefined {
    try {
      return readFileSync(this.file(name), 'utf8').trim();
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') return undefined;
      throw new IsolaError('ECGROUP', `read ${this.file(name)}: ${errnoOf(error)}`, { cause: error, details: { path: this.file(name) } });
    }
  }

  /** A single-number file; `max` (v2's "no limit") reads as 0, the way runc reports an unlimited value. */
  readNumber(name: string): number {
    return parseValue(this.readOptional(name) ?? '0');
  }

  /** A flat keyed file (`key value` per line: memory.stat, cpu.stat, memory.events). */
  readKeyed(name: string): Record<string, number> {
    const values: Record<string, number> = {};
    for (const line of (this.readOptional(name) ?? '').split('\n')) {
      const [key, value] = line.trim().split(/\s+/);
      if (key && value !== undefined) values[key] = parseValue(value);
    }
    return values;
  }

  /**
   * Write one value. `field` is the config.json field it came from, so the error reads
   * `linux.resources.pids.limit: write "5" to /sys/fs/cgroup/pids/x/pids.max: EINVAL`.
   */
  write(name: string, value: string | number, field?: string): void {
    const error = this.tryWrite(name, value);
    if (error) {
      const where = `write ${JSON.stringify(String(value))} to ${this.file(name)}: ${errnoOf(error)}`;
      throw new IsolaError('ECGROUP', field ? `${field}: ${where}` : where, {
        cause: error,
        details: { field, path: this.file(name), value: String(value), errno: errnoOf(error) },
      });
    }
  }

  /** Write and return the error instead of throwing: some limits must be retried in another order. */
  tryWrite(name: string, value: string | number): NodeJS.ErrnoException | undefined {
    try {
      // No O_CREAT: cgroupfs files exist or the write is meaningless, and creating a regular file by
      // mistake (a typo, a missing controller) would hide the error. O_TRUNC keeps fake trees exact.
      // One write() call: cgroupfs parses each write on its own.
      const fd = openSync(this.file(name), constants.O_WRONLY | constants.O_TRUNC);
      try {
        writeSync(fd, String(value));
      } finally {
        closeSync(fd);
      }
      this.journal?.push({ file: this.file(name), value: String(value) });
      return undefined;
    } catch (error) {
      return error as NodeJS.ErrnoException;
    }
  }
}

export function errnoOf(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? String(error);
}

function parseValue(text: string): number {
  if (text === 'max') return 0;
  const value = Number(text);
  return Number.isFinite(value) ? value : 0;
}

/** `linux.resources.memory.swap: swap accounting is not enabled (...)`: the host cannot honour a field. */
export function unsupported(field: string, why: string): IsolaError {
  return new IsolaError('ECGROUP_UNSUPPORTED', `${field}: ${why}`, { details: { field } });
}

/** A value the config may not hold at all, whatever the host. */
export function invalidValue(field: string, why: string): IsolaError {
  return new IsolaError('EINVALIDCONFIG', `${field}: ${why}`, { details: { field } });
}
