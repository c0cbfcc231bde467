// The wrappers against the real kernel: results, and the messages of real failures.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { itNeeds } from '../../../../test/support/requirements.js';
import * as c from '../abi/constants.js';
import { SyscallError } from '../errors.js';
import { openTap } from '../net/tap.js';
import { capabilityMask, capabilityNames, capget } from './capabilities.js';
import * as f from './files.js';
import { mmap } from './memory.js';
import { mount, pivotRoot, umount2 } from './mounts.js';
import { setns, unshare } from './namespaces.js';
import { kill, pidfdOpen, pidfdSendSignal, prctl, waitid } from './process.js';
import { getrlimit, prlimit, setrlimit } from './rlimits.js';

const dir = mkdtempSync(join(tmpdir(), 'isola-sys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function thrown(fn: () => unknown): SyscallError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SyscallError) return error;
    throw error;
  }
  throw new Error('expected a SyscallError');
}

describe('files', () => {
  it('opens, writes, reads back at offsets, syncs and closes', () => {
    const path = join(dir, 'data');
    const fd = f.open(path, c.O_RDWR | c.O_CREAT | c.O_TRUNC, 0o600);
    try {
      expect(f.write(fd, Buffer.from('hello world'))).toBe(11);
      expect(f.pwrite(fd, Buffer.from('W'), 6)).toBe(1);
      f.fsync(fd);
      f.fdatasync(fd);
      const buf = Buffer.alloc(5);
      expect(f.pread(fd, buf, 6)).toBe(5);
      expect(buf.toString()).toBe('World');
      // A subarray must be read into at its own offset, not at the start of the underlying buffer.
      const big = Buffer.alloc(16);
      expect(f.pread(fd, big.subarray(8, 13), 0)).toBe(5);
      expect(big.toString('utf8', 8, 13)).toBe('hello');
      expect(f.fcntl(fd, c.F_GETFD) & c.FD_CLOEXEC).toBe(c.FD_CLOEXEC);
    } finally {
      f.close(fd);
    }
    expect(readFileSync(path, 'utf8')).toBe('hello World');
  });

  it('names the path and errno on ENOENT', () => {
    const error = thrown(() => f.open('/no/such/dir/file', c.O_RDONLY));
    expect(error.message).toBe('open("/no/such/dir/file"): ENOENT (No such file or directory)');
    expect(error.code).toBe('ENOENT');
    expect(error.syscall).toBe('open');
    expect(error.errno).toBe(2);
  });

  it('reports EBADF for a closed descriptor', () => {
    const fd = f.open('/dev/null', c.O_RDONLY);
    f.close(fd);
    expect(thrown(() => f.close(fd)).message).toBe(`close(${fd}): EBADF (Bad file descriptor)`);
    expect(thrown(() => f.read(fd, Buffer.alloc(1))).code).toBe('EBADF');
    expect(thrown(() => f.ioctl(fd, 0x5401, Buffer.alloc(64), 'TCGETS')).message).toBe(`ioctl(${fd}, TCGETS): EBADF (Bad file descriptor)`);
  });

  it('openat resolves relative to a directory fd', () => {
    writeFileSync(join(dir, 'rel'), 'x');
    const dfd = f.open(dir, c.O_RDONLY | c.O_DIRECTORY);
    try {
      f.close(f.openat(dfd, 'rel', c.O_RDONLY));
      expect(thrown(() => f.openat(dfd, 'missing', c.O_RDONLY)).message).toMatch(/^openat\(\d+, "missing"\): ENOENT/);
    } finally {
      f.close(dfd);
    }
  });

  it('pipes, eventfds and memfds carry data', () => {
    const [r, w] = f.pipe2();
    f.write(w, Buffer.from('ping'));
    const buf = Buffer.alloc(4);
    expect(f.read(r, buf)).toBe(4);
    expect(buf.toString()).toBe('ping');
    f.close(r);
    f.close(w);

    const efd = f.eventfd(0, c.EFD_CLOEXEC | c.EFD_NONBLOCK);
    const one = Buffer.alloc(8);
    one.writeBigUInt64LE(3n);
    f.write(efd, one);
    f.write(efd, one);
    const out = Buffer.alloc(8);
    f.read(efd, out);
    expect(out.readBigUInt64LE()).toBe(6n);
    expect(thrown(() => f.read(efd, out)).code).toBe('EAGAIN');
    f.close(efd);

    const mfd = f.memfdCreate('isola-test');
    expect(f.write(mfd, Buffer.from('abc'))).toBe(3);
    expect(readFileSync(`/proc/self/fd/${mfd}`, 'utf8')).toBe('abc');
    f.close(mfd);
  });

  it('close_range marks descriptors close-on-exec', () => {
    const fd = f.open('/dev/null', c.O_RDONLY);
    f.setCloseOnExec(fd, false);
    expect(f.fcntl(fd, c.F_GETFD) & c.FD_CLOEXEC).toBe(0);
    f.closeRange(fd, fd, c.CLOSE_RANGE_CLOEXEC);
    expect(f.fcntl(fd, c.F_GETFD) & c.FD_CLOEXEC).toBe(c.FD_CLOEXEC);
    f.close(fd);
    expect(thrown(() => f.closeRange(10, 5)).message).toBe('close_range(10, 5, 0): EINVAL (Invalid argument)');
  });
});

describe('memory', () => {
  it('maps, writes, protects and unmaps anonymous memory', () => {
    const m = mmap(8192);
    m.bytes[8191] = 7;
    expect(m.bytes[8191]).toBe(7);
    m.advise(c.MADV_DONTNEED);
    expect(m.bytes[8191]).toBe(0);
    m.protect(c.PROT_READ);
    m.unmap();
    m.unmap();
  });

  it('maps a file shared, so writes reach the file', () => {
    const path = join(dir, 'mapped');
    writeFileSync(path, Buffer.alloc(4096));
    const fd = f.open(path, c.O_RDWR);
    const m = mmap(4096, { fd });
    m.bytes.set(Buffer.from('shared'), 0);
    m.unmap();
    f.close(fd);
    expect(readFileSync(path).toString('utf8', 0, 6)).toBe('shared');
  });

  it('names the arguments when mmap fails', () => {
    expect(() => mmap(4096, { fd: 999_999 })).toThrow(/^mmap\(4096 bytes, .*fd 999999\): EBADF/);
  });
});

describe('namespaces, mounts, processes', () => {
  itNeeds({ root: true })('mount names source, target and flags on failure', () => {
    expect(thrown(() => mount({ source: 'overlay', target: join(dir, 'nonexistent'), fstype: 'overlay', flags: c.MS_NODEV, data: 'lowerdir=/x' })).message).toBe(
      `mount("overlay" on "${join(dir, 'nonexistent')}", nodev, "lowerdir=/x"): ENOENT (No such file or directory)`,
    );
    expect(thrown(() => umount2(dir)).message).toBe(`umount2("${dir}"): EINVAL (Invalid argument)`);
    expect(thrown(() => pivotRoot(dir, join(dir, 'old'))).code).toMatch(/^E(INVAL|NOENT|BUSY|PERM)$/);
  });

  itNeeds({ root: true })('mounts a tmpfs and unmounts it', () => {
    const target = mkdtempSync(join(dir, 'mnt-'));
    mount({ source: 'tmpfs', target, fstype: 'tmpfs', flags: c.MS_NOSUID | c.MS_NODEV, data: 'size=1m' });
    try {
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).toContain(` ${target} `);
      writeFileSync(join(target, 'x'), 'y');
    } finally {
      umount2(target, c.MNT_DETACH);
    }
    expect(existsSync(join(target, 'x'))).toBe(false);
  });

  it('unshare of a user namespace from a multi-threaded process names the flag', () => {
    expect(thrown(() => unshare(c.CLONE_NEWUSER)).message).toBe('unshare(CLONE_NEWUSER): EINVAL (Invalid argument)');
    expect(thrown(() => setns(999_999, c.CLONE_NEWNET, '/proc/1/ns/net')).message).toBe(
      'setns("/proc/1/ns/net", CLONE_NEWNET): EBADF (Bad file descriptor)',
    );
  });

  it('signals through pidfds and waits with waitid', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const pidfd = pidfdOpen(child.pid!);
    pidfdSendSignal(pidfd, 15);
    expect(await exited).toBe('SIGTERM');
    f.close(pidfd);
    // Node reaped it already: there is no such child left to wait for.
    expect(thrown(() => waitid({ pid: child.pid! }, c.WEXITED | c.WNOHANG)).code).toBe('ECHILD');
    expect(thrown(() => kill(2 ** 22 + 1, 0)).message).toBe(`kill(${2 ** 22 + 1}, 0): ESRCH (No such process)`);
    expect(thrown(() => pidfdOpen(-5)).code).toBe('EINVAL');
    expect(prctl(c.PR_GET_DUMPABLE)).toBe(1);
  });
});

describe('capabilities and limits', () => {
  it('reads the same effective set /proc/self/status shows', () => {
    const status = readFileSync('/proc/self/status', 'utf8');
    const capEff = BigInt(`0x${/CapEff:\s+([0-9a-f]+)/.exec(status)![1]}`);
    expect(capget().effective).toBe(capEff);
    expect(capabilityMask(capabilityNames(capEff))).toBe(capEff);
    expect(capabilityNames(0b101n)).toEqual(['CAP_CHOWN', 'CAP_DAC_READ_SEARCH']);
    expect(() => capabilityMask(['CAP_FLY'])).toThrow(/unknown capability "CAP_FLY"/);
  });

  it('reads and lowers a soft limit, and names the limit when raising it fails', () => {
    const before = getrlimit('RLIMIT_NOFILE');
    expect(before.hard).toBeGreaterThan(0);
    try {
      setrlimit('RLIMIT_NOFILE', { soft: 100, hard: before.hard });
      expect(getrlimit('RLIMIT_NOFILE').soft).toBe(100);
    } finally {
      setrlimit('RLIMIT_NOFILE', before);
    }
    expect(thrown(() => prlimit(0, 'RLIMIT_NOFILE', { soft: 10, hard: 5 })).message).toBe(
      'prlimit(0, RLIMIT_NOFILE, 10:5): EINVAL (Invalid argument)',
    );
    expect(getrlimit('RLIMIT_CORE').hard).toBeTypeOf('number');
  });
});

describe('tap', () => {
  itNeeds({ root: true, files: ['/dev/net/tun'] })('creates a tap interface that disappears when closed', () => {
    const tap = openTap({ name: 'isolatest%d', vnetHeaderSize: 12 });
    try {
      expect(tap.name).toMatch(/^isolatest\d+$/);
      expect(existsSync(`/sys/class/net/${tap.name}`)).toBe(true);
    } finally {
      f.close(tap.fd);
    }
    expect(existsSync(`/sys/class/net/${tap.name}`)).toBe(false);
    expect(() => openTap({ name: 'a-name-that-is-too-long' })).toThrow(/longer than 15 bytes/);
  });
});

describe('execve', () => {
  // execve replaces the calling process, so it runs in a child Node that loads the built package.
  it('replaces a Node process with fds 0-2 inherited and its other fds closed on exec', async () => {
    const { spawnSync } = await import('node:child_process');
    const script = `
      import { execve, open, abi } from '@isola/sys';
      const extra = open('/dev/null', abi.O_RDONLY);
      execve('/bin/sh', ['sh', '-c', 'echo "$GREETING from $0"; ls /proc/self/fd'], ['GREETING=hello']);
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    const [greeting, ...fds] = child.stdout.trim().split('\n');
    expect(greeting).toBe('hello from sh');
    // 0-2 survive; the fd Node and the test opened do not (3 is ls's own directory fd).
    expect(fds.map(Number).filter((fd) => fd > 3)).toEqual([]);
    expect(fds.map(Number)).toEqual(expect.arrayContaining([0, 1, 2]));

    const failing = spawnSync(process.execPath, ['--input-type=module', '-e', `
      import { execve } from '@isola/sys';
      try { execve('/no/such/binary', ['x'], []); } catch (e) { console.log(e.message); }
    `], { encoding: 'utf8' });
    expect(failing.stdout.trim()).toBe('execve("/no/such/binary"): ENOENT (No such file or directory)');
  });
});

describe('device nodes and extended attributes', () => {
  itNeeds({ root: true })('makes a char device and a fifo, and sets and reads xattrs on a file and a symlink', async () => {
    const { lstatSync, symlinkSync } = await import('node:fs');
    const dev = join(dir, 'null-copy');
    f.mknod(dev, 0o020666, 1, 3);
    const st = lstatSync(dev);
    expect(st.isCharacterDevice()).toBe(true);
    expect([Math.floor(st.rdev / 256), st.rdev % 256]).toEqual([1, 3]);
    f.mknod(join(dir, 'fifo'), 0o010600);
    expect(lstatSync(join(dir, 'fifo')).isFIFO()).toBe(true);
    expect(thrown(() => f.mknod(dev, 0o020666, 1, 3)).message).toBe(`mknod("${dev}", 0o20666, 1:3): EEXIST (File exists)`);
    writeFileSync(join(dir, 'attr'), 'x');
    f.lsetxattr(join(dir, 'attr'), 'user.isola', Buffer.from([0, 1, 2, 255]));
    expect([...f.lgetxattr(join(dir, 'attr'), 'user.isola')]).toEqual([0, 1, 2, 255]);
    symlinkSync('attr', join(dir, 'link'));
    f.lsetxattr(join(dir, 'link'), 'trusted.isola', Buffer.from('on the link'));
    expect(f.lgetxattr(join(dir, 'link'), 'trusted.isola').toString()).toBe('on the link');
    expect(thrown(() => f.lgetxattr(join(dir, 'attr'), 'trusted.isola')).code).toBe('ENODATA');
  });
});
