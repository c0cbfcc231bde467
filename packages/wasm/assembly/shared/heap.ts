// Every module re-exports heapBase(): src/loader.ts reads it to know where the module's static data ends,
// so a facade can lay out its buffers from there. Modules are built with the stub runtime and never
// allocate, so nothing else claims memory above it.
export function heapBase(): usize {
  return __heap_base;
}
