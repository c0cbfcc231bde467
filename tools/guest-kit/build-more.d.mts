// Types for build-more.mjs, so the hypervisor's TypeScript tests can call it.
export declare function buildMoreGuests(): { smp: string; linux64: string; mmio: string };
