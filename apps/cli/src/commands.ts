// Every command, by id: oclif's "explicit" strategy loads this one module instead of scanning a folder.
import Compare from './commands/compare.js';
import ContainerInspect from './commands/container/inspect.js';
import Create from './commands/create.js';
import Doctor from './commands/doctor.js';
import Exec from './commands/exec.js';
import ImagePrune from './commands/image/prune.js';
import Images from './commands/images.js';
import ImgBench from './commands/img/bench.js';
import ImgCheck from './commands/img/check.js';
import ImgCommit from './commands/img/commit.js';
import ImgCompare from './commands/img/compare.js';
import ImgConvert from './commands/img/convert.js';
import ImgCreate from './commands/img/create.js';
import ImgInfo from './commands/img/info.js';
import ImgMap from './commands/img/map.js';
import ImgRebase from './commands/img/rebase.js';
import ImgResize from './commands/img/resize.js';
import ImgSnapshot from './commands/img/snapshot.js';
import Inspect from './commands/inspect.js';
import Kill from './commands/kill.js';
import Load from './commands/load.js';
import Logs from './commands/logs.js';
import NetworkCreate from './commands/network/create.js';
import NetworkInspect from './commands/network/inspect.js';
import NetworkLs from './commands/network/ls.js';
import NetworkRm from './commands/network/rm.js';
import Port from './commands/port.js';
import Ps from './commands/ps.js';
import Pull from './commands/pull.js';
import Push from './commands/push.js';
import Rm from './commands/rm.js';
import Rmi from './commands/rmi.js';
import Run from './commands/run.js';
import Save from './commands/save.js';
import Start from './commands/start.js';
import Stats from './commands/stats.js';
import Stop from './commands/stop.js';
import Tag from './commands/tag.js';
import Top from './commands/top.js';
import VmLogs from './commands/vm/logs.js';
import VmLs from './commands/vm/ls.js';
import VmRm from './commands/vm/rm.js';
import VmRun from './commands/vm/run.js';
import VmStop from './commands/vm/stop.js';
import VolumeCreate from './commands/volume/create.js';
import VolumeInspect from './commands/volume/inspect.js';
import VolumeLs from './commands/volume/ls.js';
import VolumePrune from './commands/volume/prune.js';
import VolumeRm from './commands/volume/rm.js';
import Wait from './commands/wait.js';

export const COMMANDS = {
  compare: Compare,
  'container:inspect': ContainerInspect,
  create: Create,
  doctor: Doctor,
  exec: Exec,
  images: Images,
  'image:prune': ImagePrune,
  'img:bench': ImgBench,
  'img:check': ImgCheck,
  'img:commit': ImgCommit,
  'img:compare': ImgCompare,
  'img:convert': ImgConvert,
  'img:create': ImgCreate,
  'img:info': ImgInfo,
  'img:map': ImgMap,
  'img:rebase': ImgRebase,
  'img:resize': ImgResize,
  'img:snapshot': ImgSnapshot,
  inspect: Inspect,
  kill: Kill,
  load: Load,
  logs: Logs,
  'network:create': NetworkCreate,
  'network:inspect': NetworkInspect,
  'network:ls': NetworkLs,
  'network:rm': NetworkRm,
  port: Port,
  ps: Ps,
  pull: Pull,
  push: Push,
  rm: Rm,
  rmi: Rmi,
  run: Run,
  save: Save,
  start: Start,
  stats: Stats,
  stop: Stop,
  tag: Tag,
  top: Top,
  'vm:logs': VmLogs,
  'vm:ls': VmLs,
  'vm:rm': VmRm,
  'vm:run': VmRun,
  'vm:stop': VmStop,
  'volume:create': VolumeCreate,
  'volume:inspect': VolumeInspect,
  'volume:ls': VolumeLs,
  'volume:prune': VolumePrune,
  'volume:rm': VolumeRm,
  wait: Wait,
};
