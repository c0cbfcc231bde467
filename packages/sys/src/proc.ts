// `@isola/sys/proc`: what /proc says about processes, without koffi. For packages that keep pids in
// state files but make no syscall themselves (the image store's lock), so that loading them does not
// load koffi and every binding.
export { bootId, isAlive, procStartTime, procStat, type ProcStat } from './proc/process.js';
