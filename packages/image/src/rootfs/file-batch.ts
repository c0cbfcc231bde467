// A batch of small regular files to create, and the loop that creates them: the part of unpacking
// that can run away from the main thread. On a filesystem where each inode creation costs hundreds
// of microseconds of kernel time (ext4 without a journal scans recently deleted inodes), creating
// files in two directories at once on two threads nearly halves the wall time, while the main
// thread goes on decompressing and parsing.
//
// `createFiles` runs in a worker thread from its source text (file-pool.ts), and inline on the main
// thread for a batch too small to be worth a worker: it must not refer to anything outside itself,
// nor define named inner functions (a bundler's name-keeping helpers would not exist in the worker).

/** One file: where, with what, and its attributes (decided on the main thread). */
export interface BatchFile {
  /** Host path, its parent already resolved inside the rootfs; created with O_EXCL. */
  host: string;
  /** Permission bits including setuid, setgid and sticky (07777). */
  mode: number;
  uid: number;
  gid: number;
  /** fchown is needed (the ids differ from what the create gives). */
  chown: boolean;
  /** fchmod is needed (special bits, bits the umask cuts, or after a chown). */
  chmod: boolean;
  atime: number;
  mtime: number;
  /** The file's bytes in the batch's data buffer. */
  offset: number;
  length: number;
}

/** Per file: undefined when created, else the failed syscall and its errno name. */
export type BatchResult = { syscall: string; code: string } | undefined;

/**
 * Creates each file: open(O_WRONLY|O_CREAT|O_EXCL), write, fchown and fchmod when asked, futimens,
 * close. A failure is recorded and the next file is tried: an open refused with EEXIST, ENOENT or
 * ENOTDIR is for the caller to redo on its general path, anything else fails the layer.
 */
export function createFiles(fs: typeof import('node:fs'), files: readonly BatchFile[], data: Uint8Array): BatchResult[] {
  const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL;
  const results: BatchResult[] = [];
  for (const file of files) {
    let fd: number;
    try {
      fd = fs.openSync(file.host, flags, file.mode & 0o777);
    } catch (error) {
      results.push({ syscall: 'open', code: String((error as NodeJS.ErrnoException).code) });
      continue;
    }
    let step = 'write';
    try {
      for (let at = 0; at < file.length; ) at += fs.writeSync(fd, data, file.offset + at, file.length - at);
      step = 'fchown';
      if (file.chown) fs.fchownSync(fd, file.uid, file.gid);
      // After chown, which clears setuid and setgid.
      step = 'fchmod';
      if (file.chmod) fs.fchmodSync(fd, file.mode);
      step = 'futimens';
      fs.futimesSync(fd, file.atime, file.mtime);
      results.push(undefined);
    } catch (error) {
      results.push({ syscall: step, code: String((error as NodeJS.ErrnoException).code) });
    } finally {
      fs.closeSync(fd);
    }
  }
  return results;
}

/** open() errors that mean "something is in the way": the general path clears it and retries. */
export function isRetryable(result: BatchResult): boolean {
  return result !== undefined && result.syscall === 'open' && (result.code === 'EEXIST' || result.code === 'ENOENT' || result.code === 'ENOTDIR');
}
