// `isola img` as users run it, with qemu-img (Debian qemu-utils) as the judge of what it writes: the
// built binary, real files, real exit statuses.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { isolaBin, runCommand, runIsola, useWorkDir } from '../support/cli.js';
import { itNeeds } from '../support/requirements.js';

const dir = useWorkDir('isola-img-e2e-');

const run = (command: string, args: string[]) => runCommand(command, args, { timeout: 120_000 });
const isola = (...args: string[]) => runIsola(['img', ...args], { timeout: 120_000 });
const qemuImg = (...args: string[]) => run('qemu-img', args);
const path = (name: string) => join(dir, name);
const needsQemu = itNeeds({ tools: ['qemu-img', 'qemu-io'] });

/** A raw disk with data at a few places and holes between them. */
function rawWithData(name: string): string {
  const file = path(name);
  expect(run('qemu-img', ['create', '-f', 'raw', file, '64M']).status).toBe(0);
  for (const [pattern, offset, length] of [[0xab, '0', '1M'], [0x5a, '7M', '64k'], [0x01, '63M', '4k']] as const) {
    expect(run('qemu-io', ['-f', 'raw', '-c', `write -P ${pattern} ${offset} ${length}`, file]).status).toBe(0);
  }
  return file;
}

describe('isola img', () => {
  needsQemu('create makes an image qemu-img checks clean, and info --output json says what qemu-img says', () => {
    const image = path('new.qcow2');
    expect(isola('create', '-f', 'qcow2', '-o', 'cluster_size=65536', image, '1G')).toMatchObject({ status: 0, stderr: '' });
    expect(qemuImg('check', image)).toMatchObject({ status: 0 });
    const ours = JSON.parse(isola('info', '--output', 'json', image).stdout);
    const theirs = JSON.parse(qemuImg('info', '--output', 'json', image).stdout);
    for (const field of ['virtual-size', 'format', 'cluster-size', 'dirty-flag'] as const) expect(ours[field], field).toEqual(theirs[field]);
    expect(ours['format-specific']?.data?.compat).toBe(theirs['format-specific'].data.compat);
  });

  needsQemu('convert to qcow2, compressed qcow2 and back to raw keeps every byte (qemu-img compare) and passes qemu-img check', () => {
    const raw = rawWithData('data.raw');
    expect(isola('convert', '-O', 'qcow2', raw, path('data.qcow2')).status).toBe(0);
    expect(isola('convert', '-c', '-O', 'qcow2', '-o', 'cluster_size=4096', raw, path('data-c.qcow2')).status).toBe(0);
    expect(isola('convert', '-O', 'raw', path('data-c.qcow2'), path('back.raw')).status).toBe(0);
    for (const image of ['data.qcow2', 'data-c.qcow2']) expect(qemuImg('check', path(image)).status, image).toBe(0);
    for (const image of ['data.qcow2', 'data-c.qcow2', 'back.raw']) expect(qemuImg('compare', raw, path(image)).status, image).toBe(0);
    // and isola's own compare agrees with qemu-img's verdict, both ways
    expect(isola('compare', raw, path('data-c.qcow2')).status).toBe(0);
    expect(run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x77 32M 4k', path('data.qcow2')]).status).toBe(0);
    expect(isola('compare', raw, path('data.qcow2')).status).toBe(1);
  });

  needsQemu('-p prints qemu-img\'s progress lines on stdout, ending at 100% (convert, commit, rebase); -q silences them', () => {
    const raw = rawWithData('progress.raw');
    /** The shares a -p output shows, checked line by line against qemu-img's format. */
    const expectProgress = (stdout: string): void => {
      expect(stdout.startsWith('    (0.00/100%)\r')).toBe(true);
      expect(stdout.endsWith('    (100.00/100%)\r\n')).toBe(true);
      const shares = stdout.replace(/\r\n$/, '').split('\r').map((line) => {
        const m = /^ {4}\((\d{1,3}\.\d\d)\/100%\)$/.exec(line);
        expect(m, JSON.stringify(line)).not.toBeNull();
        return Number(m![1]);
      });
      expect(shares).toEqual([...shares].sort((a, b) => a - b));
    };
    expectProgress(qemuImg('convert', '-p', '-O', 'qcow2', raw, path('progress-qemu.qcow2')).stdout); // the format is qemu-img's
    const converted = isola('convert', '-p', '-O', 'qcow2', raw, path('progress.qcow2'));
    expect(converted.status).toBe(0);
    expectProgress(converted.stdout);
    expect(qemuImg('compare', raw, path('progress.qcow2')).status).toBe(0);
    expect(isola('convert', '-p', '-q', '-O', 'qcow2', raw, path('quiet.qcow2'))).toMatchObject({ status: 0, stdout: '' });

    const overlay = path('progress-overlay.qcow2');
    expect(qemuImg('create', '-f', 'qcow2', '-b', 'progress.qcow2', '-F', 'qcow2', overlay).status).toBe(0);
    expect(run('qemu-io', ['-c', 'write -P 0x42 1M 2M', overlay]).status).toBe(0);
    const rebased = isola('rebase', '-p', '-b', '', overlay);
    expect(rebased.status).toBe(0);
    expectProgress(rebased.stdout);
    expect(qemuImg('compare', '-F', 'qcow2', overlay, path('progress.qcow2')).status).toBe(1); // the 0x42 MiBs differ
    expect(qemuImg('rebase', '-u', '-b', 'progress.qcow2', '-F', 'qcow2', overlay).status).toBe(0);
    const committed = isola('commit', '-p', overlay);
    expect(committed.status).toBe(0);
    expect(committed.stdout.endsWith('\nImage committed.\n')).toBe(true);
    expectProgress(committed.stdout.slice(0, -'Image committed.\n'.length));
  });

  needsQemu('snapshots taken by isola are listed by qemu-img, and applying one brings its data back', () => {
    const image = path('snap.qcow2');
    expect(qemuImg('create', '-f', 'qcow2', image, '16M').status).toBe(0);
    expect(run('qemu-io', ['-c', 'write -P 0x11 0 64k', image]).status).toBe(0);
    expect(isola('snapshot', '-c', 'before', image).status).toBe(0);
    expect(run('qemu-io', ['-c', 'write -P 0x22 0 64k', image]).status).toBe(0);
    expect(qemuImg('snapshot', '-l', image).stdout).toContain('before');
    expect(isola('snapshot', '-a', 'before', image).status).toBe(0);
    expect(run('qemu-io', ['-c', 'read -P 0x11 0 64k', image]).stdout).not.toContain('Pattern verification failed');
    expect(qemuImg('check', image).status).toBe(0);
  });

  needsQemu('resize grows a qcow2 image the way qemu-img sees it, and refuses to shrink past data', () => {
    const image = path('grow.qcow2');
    expect(qemuImg('create', '-f', 'qcow2', image, '16M').status).toBe(0);
    expect(run('qemu-io', ['-c', 'write -P 0x33 15M 64k', image]).status).toBe(0);
    expect(isola('resize', image, '+16M').status).toBe(0);
    expect(JSON.parse(qemuImg('info', '--output', 'json', image).stdout)['virtual-size']).toBe(32 * 1024 * 1024);
    const shrink = isola('resize', '--shrink', image, '8M');
    expect(shrink.status).not.toBe(0);
    expect(shrink.stderr.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(qemuImg('info', '--output', 'json', image).stdout)['virtual-size']).toBe(32 * 1024 * 1024);
    expect(qemuImg('check', image).status).toBe(0);
  });

  needsQemu('bad input gets one line naming the file, a non-zero status, and leaves no target behind', () => {
    const garbage = path('garbage.qcow2');
    // a qcow2 magic with a header that points its L1 table far past the end of the file
    const header = Buffer.alloc(512);
    header.write('QFI\xfb', 0, 'latin1');
    header.writeUInt32BE(3, 4); // version
    header.writeUInt32BE(16, 20); // cluster_bits
    header.writeBigUInt64BE(1n << 30n, 24); // size
    header.writeUInt32BE(16, 36); // l1_size
    header.writeBigUInt64BE(1n << 40n, 40); // l1_table_offset: 1 TiB, past EOF
    header.writeBigUInt64BE(65536n, 48); // refcount_table_offset
    header.writeUInt32BE(1, 56); // refcount_table_clusters
    header.writeUInt32BE(4, 96); // refcount_order
    header.writeUInt32BE(104, 100); // header_length
    writeFileSync(garbage, header);
    for (const result of [isola('info', garbage), isola('convert', '-O', 'raw', garbage, path('never.raw')), isola('info', path('missing.qcow2'))]) {
      expect(result.status).not.toBe(0);
      const lines = result.stderr.trim().split('\n');
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/garbage\.qcow2|missing\.qcow2/);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(path('never.raw'))).toBe(false);
  });
  needsQemu('bad options and self-destroying targets get one line and status 1, and change no file', () => {
    const base = path('audit-base.qcow2');
    const top = path('audit-top.qcow2');
    expect(qemuImg('create', '-q', '-f', 'qcow2', base, '4M').status).toBe(0);
    expect(run('qemu-io', ['-c', 'write -P 0x44 0 64k', base]).status).toBe(0);
    expect(qemuImg('create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', top).status).toBe(0);
    const before = readFileSync(base);
    for (const [args, message] of [
      [['create', '-o', 'refcount_bits=abc', path('a.qcow2'), '1M'], /refcount_bits: "abc" is not a number of bits/],
      [['create', '-o', 'compat=2', path('a.qcow2'), '1M'], /compat: invalid version "2"/],
      [['create', '-o', 'nosuch=1', path('a.qcow2'), '1M'], /invalid parameter "nosuch"/],
      [['create', '-f', 'raw', '-o', 'cluster_size=64k', path('a.raw'), '1M'], /a\.raw: raw images take no cluster_size/],
      [['snapshot', '-c', 'x', '-d', 'y', top], /cannot mix --create and --delete/],
      [['resize', top, '--', '-5G'], /audit-top\.qcow2: cannot shrink by 5G: the disk is only 4194304 bytes/],
      [['convert', '-O', 'qcow2', top, base], /audit-base\.qcow2: is the backing file .* of .*audit-top\.qcow2: convert would destroy it/],
      [['rebase', '-b', 'audit-top.qcow2', '-F', 'qcow2', base], /audit-base\.qcow2: new backing file "audit-top\.qcow2" would make a loop/],
      [['bench', '-c', '-5', top], /count -5: the number of requests must be at least 1/],
      [['create', '-f', 'qcow2', '-b', 'audit-top.qcow2', '-F', 'qcow2', base, '4M'], /audit-base\.qcow2: backing file "audit-top\.qcow2" would make a loop/],
      [['create', '-f', 'qcow2', '-b', 'gone.qcow2', '-F', 'qcow2', path('a.qcow2'), '4M'], /a\.qcow2: cannot open backing file "gone\.qcow2"/],
      [['snapshot', '-c', 'n'.repeat(300), top], /audit-top\.qcow2: snapshot name of 300 bytes is longer than qemu's 255/],
    ] as const) {
      const result = isola(...args);
      expect(result.status, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toMatch(new RegExp(`^Error: .*${message.source}.*\\n$`));
    }
    expect(existsSync(path('a.qcow2')) || existsSync(path('a.raw'))).toBe(false);
    expect(readFileSync(base).equals(before)).toBe(true);
    expect(qemuImg('check', top).status).toBe(0);
  });

  // Writes are made on the main thread (between reads on the thread pool): the signal must still get
  // through between two chunks, and the half-written target must go.
  for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    needsQemu(`${signal} during a convert stops it: exit status ${status}, one line, no target left, the source intact`, async () => {
      const source = path(`big-${signal}.raw`);
      const fd = openSync(source, 'w');
      const chunk = Buffer.alloc(1 << 20, 0x5c);
      for (let i = 0; i < 512; i++) writeSync(fd, chunk);
      closeSync(fd);
      const target = path(`big-${signal}.qcow2`);
      const child = spawn(process.execPath, [isolaBin, 'img', 'convert', '-f', 'raw', '-O', 'qcow2', source, target], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      // Once the target exists the copy has begun: it takes ~0.3 s for 512 MiB here, and the signal comes at once.
      for (let i = 0; i < 500 && !existsSync(target); i++) await new Promise((r) => setTimeout(r, 10));
      expect(existsSync(target)).toBe(true);
      child.kill(signal);
      expect(await exited).toBe(status);
      expect(stderr).toMatch(new RegExp(`^Error: .*big-${signal}\\.qcow2: convert interrupted by ${signal}, target removed\\n$`));
      expect(existsSync(target)).toBe(false);
      expect(qemuImg('info', source).status).toBe(0);
    });
  }
});
