// The v2 hugetlb controller: hugetlb.<size>.max, and the reservation limit .rsvd.max where the kernel has
// one. On this project's hybrid hosts this is the only controller the unified hierarchy offers.
import type { LinuxResources } from '../../spec/types.js';
import type { Controller } from '../controller.js';
import { type CgroupDir, unsupported } from '../dir.js';
import type { CgroupStats } from '../stats.js';

const F = 'linux.resources.hugepageLimits';

export const hugetlb: Controller = {
  name: 'hugetlb',
  field: F,
  wanted: (r: LinuxResources) => (r.hugepageLimits?.length ?? 0) > 0,

  set(dir: CgroupDir, r: LinuxResources): void {
    for (const [i, { pageSize, limit }] of (r.hugepageLimits ?? []).entries()) {
      const file = `hugetlb.${pageSize}.max`;
      if (!dir.exists(file)) throw unsupported(`${F}[${i}].pageSize`, `this host has no ${pageSize} huge pages (${file} missing)`);
      dir.write(file, limit, `${F}[${i}].limit`);
      if (dir.exists(`hugetlb.${pageSize}.rsvd.max`)) dir.write(`hugetlb.${pageSize}.rsvd.max`, limit, `${F}[${i}].limit`);
    }
  },

  stats(dir: CgroupDir, stats: CgroupStats): void {
    for (const name of dir.list()) {
      const size = /^hugetlb\.([^.]+)\.current$/.exec(name)?.[1];
      if (!size) continue;
      // v2 keeps no high-water mark; failcnt is the count of allocations refused at the limit.
      stats.hugetlb[size] = { usage: dir.readNumber(name), max: 0, failcnt: dir.readKeyed(`hugetlb.${size}.events`).max ?? 0 };
    }
  },
};
