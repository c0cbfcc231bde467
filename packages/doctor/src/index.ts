export { runDoctor, formatReport, SECTIONS, type DoctorReport, type DoctorOptions, type Section } from './report.js';
export type { Check, CheckStatus } from './check.js';
export { parseCgroupMounts, cgroupLayout, type CgroupDetails, type CgroupMode } from './probes/cgroups.js';
export { measureGuestSpeed, type GuestSpeed } from './probes/guest-speed.js';
