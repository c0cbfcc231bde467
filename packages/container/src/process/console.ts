// process.terminal: a pty made in the container's own devpts, its master sent to the caller over
// --console-socket (SCM_RIGHTS, as runc does), its slave the process's controlling terminal and stdio.
import { abi, fdMessage, slot, structs, type Step, type StructArg } from '@isola/sys';

const MASTER = 4;
const SLAVE = 5;

/** The sendmsg argument with its pointers (iovec → payload, control) for the interpreter to lay out. */
function message(fd: number): StructArg {
  const { msghdr, iov, data, control } = fdMessage(fd, '/dev/ptmx');
  return {
    bytes: msghdr,
    pointers: [
      [structs.msghdr.msg_iov, { bytes: iov, pointers: [[structs.iovec.iov_base, data]] }],
      [structs.msghdr.msg_control, control],
    ],
  };
}

export function consoleSteps(socketFd: number, masterFd: number, size?: { height: number; width: number }): Step[] {
  const steps: Step[] = [
    { syscall: 'openat', args: [abi.AT_FDCWD, '/dev/ptmx', abi.O_RDWR | abi.O_NOCTTY | abi.O_CLOEXEC, 0], describe: 'open /dev/ptmx', saveTo: MASTER },
    { syscall: 'ioctl', args: [slot(MASTER), abi.TIOCSPTLCK, new Uint8Array(4)], describe: 'unlock the pty' },
    { syscall: 'ioctl', args: [slot(MASTER), abi.TIOCGPTPEER, abi.O_RDWR | abi.O_NOCTTY], describe: 'open the pty slave', saveTo: SLAVE },
    // The fd number travels inside the control message, so the master goes to a number known in advance.
    { syscall: 'dup3', args: [slot(MASTER), masterFd, abi.O_CLOEXEC], describe: 'place the pty master' },
    { syscall: 'sendmsg', args: [socketFd, message(masterFd), 0], describe: 'send the pty master to --console-socket' },
    { syscall: 'close', args: [masterFd], describe: 'close the pty master' },
    { syscall: 'close', args: [slot(MASTER)], describe: 'close /dev/ptmx' },
    { syscall: 'close', args: [socketFd], describe: 'close --console-socket' },
    { syscall: 'setsid', args: [], describe: 'setsid()' },
    { syscall: 'ioctl', args: [slot(SLAVE), abi.TIOCSCTTY, 0], describe: 'make the pty the controlling terminal' },
  ];
  if (size) {
    const ws = new Uint8Array(structs.winsize.size);
    const view = new DataView(ws.buffer);
    view.setUint16(structs.winsize.ws_row, size.height, true);
    view.setUint16(structs.winsize.ws_col, size.width, true);
    steps.push({ syscall: 'ioctl', args: [slot(SLAVE), abi.TIOCSWINSZ, ws], describe: 'set the terminal size (process.consoleSize)' });
  }
  for (const fd of [0, 1, 2]) steps.push({ syscall: 'dup3', args: [slot(SLAVE), fd, 0], describe: `pty slave as fd ${fd}` });
  steps.push({ syscall: 'close', args: [slot(SLAVE)], describe: 'close the pty slave' });
  return steps;
}
