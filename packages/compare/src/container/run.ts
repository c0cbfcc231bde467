// One container through @isola/engine, as `isola run --rm --network none busybox CMD` runs it (in this
// process, its parent), with its stdout captured by putting a pipe at fd 1 while it is made: the
// container inherits fd 1, so its first byte is timed as it comes through the pipe.
import { Socket } from 'node:net';
import { runImage } from '@isola/engine';
import { close, fcntl, pipe2 } from '@isola/sys';

const F_DUPFD = 0;
const F_DUPFD_CLOEXEC = 1030;

export interface ContainerRun {
  /** Milliseconds from launch to the first byte of stdout, and to the exit. */
  firstByteMs: number;
  exitMs: number;
  output: string;
  exitCode: number;
}

export interface ContainerRunOptions {
  command: string[];
  /** -v SRC:DST[:ro] mounts. */
  volume?: string[];
  root?: string;
}

function placeAt(fd: number, target: number): void {
  close(target);
  const got = fcntl(fd, F_DUPFD, target);
  if (got !== target) {
    close(got);
    throw new Error(`fd ${fd} landed on ${got}, not ${target}`);
  }
}

export async function runContainer(options: ContainerRunOptions): Promise<ContainerRun> {
  const [readEnd, writeEnd] = pipe2();
  const reader = new Socket({ fd: readEnd, readable: true, writable: false });
  const chunks: Buffer[] = [];
  let firstByte = Number.NaN;
  const drained = new Promise<void>((resolve) => reader.on('close', () => resolve()));
  reader.on('data', (chunk: Buffer) => {
    if (chunks.length === 0) firstByte = performance.now();
    chunks.push(chunk);
  });
  const savedStdout = fcntl(1, F_DUPFD_CLOEXEC, 3);
  const start = performance.now();
  let exitCode: number;
  let exit: number;
  try {
    placeAt(writeEnd, 1);
    close(writeEnd);
    exitCode = (await runImage({ image: 'busybox', command: options.command, volume: options.volume, network: 'none', autoRemove: true, root: options.root })) as number;
    exit = performance.now();
  } finally {
    // Put stdout back; the container's copies of the write end closed when it exited, so the reader ends.
    placeAt(savedStdout, 1);
    close(savedStdout);
  }
  await drained;
  return { firstByteMs: firstByte - start, exitMs: exit - start, output: Buffer.concat(chunks).toString('utf8'), exitCode };
}
