// The v1 hugetlb controller: hugetlb.<size>.limit_in_bytes, and the reservation limit beside it where the
// kernel has one (the spec prefers reservation accounting: it fails mmap instead of SIGBUSing later).
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
      const file = `hugetlb.${pageSize}.limit_in_bytes`;
      if (!dir.exists(file)) throw unsupported(`${F}[${i}].pageSize`, `this host has no ${pageSize} huge pages (${file} missing)`);
      dir.write(file, limit, `${F}[${i}].limit`);
      if (dir.exists(`hugetlb.${pageSize}.rsvd.limit_in_bytes`)) dir.write(`hugetlb.${pageSize}.rsvd.limit_in_bytes`, limit, `${F}[${i}].limit`);
    }
  },

  stats(dir: CgroupDir, stats: CgroupStats): void {
    for (const size of pageSizes(dir, /^hugetlb\.([^.]+)\.limit_in_bytes$/)) {
      stats.hugetlb[size] = {
        usage: dir.readNumber(`hugetlb.${size}.usage_in_bytes`),
        max: dir.readNumber(`hugetlb.${size}.max_usage_in_bytes`),
        failcnt: dir.readNumber(`hugetlb.${size}.failcnt`),
      };
    }
  },
};

/** The page sizes this cgroup has files for, read from its directory listing. */
export function pageSizes(dir: CgroupDir, pattern: RegExp): string[] {
  return dir.list().flatMap((name) => {
    const match = pattern.exec(name);
    return match ? [match[1]!] : [];
  });
}
