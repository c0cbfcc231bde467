// Types for build.mjs, so the hypervisor's TypeScript tests can call it.
export type Variant = 'hello' | 'sse' | 'int3' | 'cx16' | 'spin' | 'echo' | 'reset' | 'pio' | 'mmio' | 'virtio' | 'vblkbench' | 'poweroff';
export declare const VARIANTS: readonly Variant[];
export declare const SPIN_COUNTER_ADDRESS: number;
export declare const PASS_STATUS: number;
export declare const BENCH_EXITS: number;
export declare function cacheRoot(): string;
export declare function buildGuests(): { dir: string; guests: Record<Variant, { flat: string; pvh: string }> };
