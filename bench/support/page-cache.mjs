// The untimed step bench/qcow2 and bench/image take before each case, for every tool alike.
// On a VM that reports free memory to its host (virtio-balloon free page reporting; here the kernel's
// command line sets page_reporting.page_reporting_order=11), memory freed more than ~2 s earlier has
// gone back to the host, and the first touch of each page faults there: writing 768 MiB into such
// memory took 1.9-3.3 s against 0.37-0.6 s into memory freed a moment before (the same copy loop, three
// runs each). Which tool met which kind of memory then decided a row, not the tools. Writing a scratch
// file and deleting it leaves recently freed memory for the case that follows, as on a machine without
// page reporting.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

/** Writes `mib` MiB to a scratch file in `dir` and deletes it. */
export function warmPageCache(dir, mib) {
  const scratch = join(dir, 'warm.scratch');
  execFileSync('dd', ['if=/dev/zero', `of=${scratch}`, 'bs=4M', `count=${Math.ceil(mib / 4)}`, 'status=none']);
  rmSync(scratch);
}
