// The untimed step bench/qcow2 and bench/image take before each case, for every tool alike.
// On a VM that reports free memory to its host (virtio-balloon free page reporting; here the kernel's
// command line sets page_reporting.page_reporting_order=11), memory freed more than ~2 s earlier has
// gone back to the host, and the first touch of each page faults there: writing 768 MiB into such
// memory took 1.9-3.3 s against 0.37-0.6 s into memory freed a moment before (the same copy loop, three
// runs each). Which tool met which kind of memory then decided a row, not the tools. Writing a scratch
// file and deleting it leaves recently freed memory for the case that follows, as on a machine without
// page reporting.
//
// The kernel reports from a worker that runs 2 s after a free asks for it, and it takes whatever is
// free then, the scratch file's memory too. A worker that ran while a tool was writing made that run
// an outlier: traced (perf, workqueue:workqueue_execute_start) over 12 converts of bench/qcow2, the
// two isola runs of 1.42 and 1.57 s (others 0.59-0.73 s) each had page_reporting_process start 0.2 s
// into them, and qemu-img's slowest (0.82 s; others 0.38-0.48 s) had it start as it began. So the step
// first waits out the worker that earlier frees (the previous case's files) asked for. That lowers the
// odds, it does not remove them: with the wait, 1 of 16 traced runs still had a worker inside it.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Whether a virtio balloon here has free page reporting (feature bit 5, VIRTIO_BALLOON_F_REPORTING). */
function reportsFreePages() {
  const drivers = '/sys/bus/virtio/drivers/virtio_balloon';
  let devices = [];
  try {
    devices = readdirSync(drivers).filter((name) => name.startsWith('virtio'));
  } catch {
    // no balloon driver: nothing reports
  }
  return devices.some((device) => readFileSync(join(drivers, device, 'features'), 'utf8')[5] === '1');
}
const REPORTING = reportsFreePages();

/** Writes `mib` MiB to a scratch file in `dir` and deletes it, after the page-reporting wait where there is one. */
export function warmPageCache(dir, mib) {
  if (REPORTING) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000);
  const scratch = join(dir, 'warm.scratch');
  execFileSync('dd', ['if=/dev/zero', `of=${scratch}`, 'bs=4M', `count=${Math.ceil(mib / 4)}`, 'status=none']);
  rmSync(scratch);
}
