// The _IOC encoding of asm-generic/ioctl.h (x86-64): dir:2 | size:14 | type:8 | nr:8.

const IOC_NONE = 0;
const IOC_WRITE = 1;
const IOC_READ = 2;

function ioc(dir: number, type: number, nr: number, size: number): number {
  // >>> 0 keeps the result an unsigned 32-bit number (dir=2/3 sets bit 31).
  return ((dir << 30) | (size << 16) | (type << 8) | nr) >>> 0;
}

export const io = (type: number, nr: number): number => ioc(IOC_NONE, type, nr, 0);
export const ior = (type: number, nr: number, size: number): number => ioc(IOC_READ, type, nr, size);
export const iow = (type: number, nr: number, size: number): number => ioc(IOC_WRITE, type, nr, size);
export const iowr = (type: number, nr: number, size: number): number => ioc(IOC_READ | IOC_WRITE, type, nr, size);
