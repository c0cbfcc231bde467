// @isola/hypervisor: a KVM virtual machine monitor. createVm is the API; the rest is exported for
// tools and tests that compose the parts (boot planners, device models, the memory layout).
export { createVm, Vm, MAX_CPUS, type VmOptions, type VmExit, type VmState, type ConsoleSink } from './vm.js';
export type { HypervisorErrorCode } from './errors.js';
export * from './boot/index.js';
export { GuestMemory, planRegions, type RegionPlan, type RegionDescriptor } from './machine/memory.js';
export { e820Map, E820_RAM, E820_RESERVED, E820_ACPI, type E820Entry } from './machine/e820.js';
export * as layout from './machine/layout.js';
export { Bus, type Device } from './devices/bus.js';
export { Serial, SERIAL_PORT, SERIAL_IRQ, type SerialSinks } from './devices/serial/device.js';
export { DebugExit, DEBUG_EXIT_PORT } from './devices/debug-exit/device.js';
export { I8042 } from './devices/i8042/device.js';
export { Rtc } from './devices/rtc/device.js';
export { vcpuCpuid, pvhEntry, realModeEntry, linux64Entry, identityMap4G, type CpuFeature } from './arch/x86_64/index.js';
export { disassemble } from './emulation/disassemble.js';
export type { ExitCounts, VcpuEnd } from './vcpu/protocol.js';
export { VirtioDevices, type VirtioOptions } from './devices/virtio/devices.js';
export { parseDiskSpec, type DiskOptions } from './devices/virtio-blk/disk-spec.js';
export { MmioTransport, type VirtioMmioDescriptor as VirtioMmioPlacement, type VirtioMmioSlot } from './devices/virtio/transport.js';
export { VirtioMmioDevice, type VirtioDeviceModel, type Served } from './devices/virtio/device.js';
export { virtioMmioPlacement, VIRTIO_IRQS } from './devices/virtio/layout.js';
export { parseChain, type DescriptorChain, type Segment } from './devices/virtio/chain.js';
export { SplitQueue, type QueueLayout } from './devices/virtio/queue.js';
export { ramOf, ArrayRam, type GuestRam } from './devices/virtio/ram.js';
export { VirtioBlk, blkConfig } from './devices/virtio-blk/device.js';
export { parseRequest as parseBlkRequest, BlkStatus, BlkType, type BlkRequest } from './devices/virtio-blk/request.js';
export { VirtioRng } from './devices/virtio-rng/device.js';
export * from './acpi/index.js';
export * from './instance/index.js';
