// Numbers from the virtio 1.2 specification that the transport, the queues and the devices share:
// MMIO register offsets (4.2.2), device status bits (2.1), feature bits (6), descriptor flags (2.7.5).

export const MMIO_MAGIC = 0x7472_6976; // "virt"
export const MMIO_VERSION = 2;
/** Vendor ID the guest sees: "ISOL" read as a little-endian word. */
export const MMIO_VENDOR = 0x4c4f_5349;
/** Each transport's register window; the device config space starts at CONFIG. */
export const MMIO_WINDOW = 0x1000;

export const Reg = {
  MAGIC: 0x000,
  VERSION: 0x004,
  DEVICE_ID: 0x008,
  VENDOR_ID: 0x00c,
  DEVICE_FEATURES: 0x010,
  DEVICE_FEATURES_SEL: 0x014,
  DRIVER_FEATURES: 0x020,
  DRIVER_FEATURES_SEL: 0x024,
  QUEUE_SEL: 0x030,
  QUEUE_NUM_MAX: 0x034,
  QUEUE_NUM: 0x038,
  QUEUE_READY: 0x044,
  QUEUE_NOTIFY: 0x050,
  INTERRUPT_STATUS: 0x060,
  INTERRUPT_ACK: 0x064,
  STATUS: 0x070,
  QUEUE_DESC_LOW: 0x080,
  QUEUE_DESC_HIGH: 0x084,
  QUEUE_DRIVER_LOW: 0x090,
  QUEUE_DRIVER_HIGH: 0x094,
  QUEUE_DEVICE_LOW: 0x0a0,
  QUEUE_DEVICE_HIGH: 0x0a4,
  SHM_SEL: 0x0ac,
  SHM_LEN_LOW: 0x0b0,
  SHM_LEN_HIGH: 0x0b4,
  SHM_BASE_LOW: 0x0b8,
  SHM_BASE_HIGH: 0x0bc,
  QUEUE_RESET: 0x0c0,
  CONFIG_GENERATION: 0x0fc,
  CONFIG: 0x100,
} as const;

export const Status = {
  ACKNOWLEDGE: 1,
  DRIVER: 2,
  DRIVER_OK: 4,
  FEATURES_OK: 8,
  DEVICE_NEEDS_RESET: 0x40,
  FAILED: 0x80,
} as const;

/** InterruptStatus bits. */
export const INTERRUPT_USED_BUFFER = 1;
export const INTERRUPT_CONFIG_CHANGE = 2;

/** Feature bit numbers (0-63). */
export const Feature = {
  RING_INDIRECT_DESC: 28,
  RING_EVENT_IDX: 29,
  VERSION_1: 32,
} as const;

export const DeviceId = {
  BLOCK: 2,
  ENTROPY: 4,
} as const;

/** Descriptor flags. */
export const DESC_F_NEXT = 1;
export const DESC_F_WRITE = 2;
export const DESC_F_INDIRECT = 4;
/** avail->flags: the driver does not want an interrupt for used buffers. */
export const AVAIL_F_NO_INTERRUPT = 1;

/** A 64-bit feature set from bit numbers, as a bigint. */
export function features(...bits: number[]): bigint {
  return bits.reduce((set, bit) => set | (1n << BigInt(bit)), 0n);
}
