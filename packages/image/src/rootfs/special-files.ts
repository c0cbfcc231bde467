// The two things a rootfs writer needs that Node's fs cannot do: create device nodes and fifos
// (mknod(2)), and set extended attributes (lsetxattr(2)). Both are injected (tests pass fakes); the
// default calls them through @isola/sys, the one package that binds syscalls.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export type NodeKind = 'char' | 'block' | 'fifo';

export interface SpecialFileOps {
  /** Creates a device node or fifo at `path` (which does not exist), with permission bits `mode`. */
  mknod(path: string, kind: NodeKind, mode: number, major: number, minor: number): Promise<void>;
  /**
   * Sets one extended attribute on `path` without following a symlink there (lsetxattr semantics).
   * When absent, the unpack summary lists every xattr it could not set.
   */
  setXattr?(path: string, name: string, value: Buffer): Promise<void>;
}

const execFileAsync = promisify(execFile);

const MKNOD_TYPE: Record<NodeKind, string> = { char: 'c', block: 'b', fifo: 'p' };

/**
 * mknod(1) from coreutils, one process per node: a stopgap until @isola/sys binds mknod(2). Layers
 * rarely hold more than a handful of nodes (a runtime mounts /dev), so the cost does not show.
 */
export async function mknodCommand(path: string, kind: NodeKind, mode: number, major: number, minor: number): Promise<void> {
  const args = ['-m', (mode & 0o7777).toString(8), path, MKNOD_TYPE[kind]];
  if (kind !== 'fifo') args.push(String(major), String(minor));
  try {
    await execFileAsync('mknod', args);
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw Object.assign(new Error(`mknod ${args.join(' ')}: ${stderr || (error as Error).message}`, { cause: error }), {
      code: /Operation not permitted/.test(stderr) ? 'EPERM' : undefined,
    });
  }
}

const S_IFMT: Record<NodeKind, number> = { char: 0o020000, block: 0o060000, fifo: 0o010000 };

/** mknod(2) and lsetxattr(2) through @isola/sys, loaded on first use (most layers need neither). */
export const defaultSpecialFiles: SpecialFileOps = {
  async mknod(path, kind, mode, major, minor) {
    const sys = await import('@isola/sys');
    sys.mknod(path, S_IFMT[kind] | (mode & 0o7777), major, minor);
  },
  async setXattr(path, name, value) {
    const sys = await import('@isola/sys');
    sys.lsetxattr(path, name, value);
  },
};

/**
 * setfattr(1) from the `attr` package, one process per attribute (`-h`: on a symlink itself, as
 * lsetxattr). Values travel base64-encoded (`0s…`), so binary ones such as security.capability
 * arrive intact. A stopgap until @isola/sys binds lsetxattr(2).
 */
export async function setfattrCommand(path: string, name: string, value: Buffer): Promise<void> {
  try {
    await execFileAsync('setfattr', ['-h', '-n', name, '-v', `0s${value.toString('base64')}`, '--', path]);
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(`setfattr -n ${name} ${path}: ${stderr || (error as Error).message}`, { cause: error });
  }
}
