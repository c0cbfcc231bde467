// Every command, by id: oclif's "explicit" strategy loads this one module instead of scanning a folder.
import ContainerInspect from './commands/container/inspect.js';
import Create from './commands/create.js';
import Doctor from './commands/doctor.js';
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
import Ps from './commands/ps.js';
import Pull from './commands/pull.js';
import Push from './commands/push.js';
import Rm from './commands/rm.js';
import Rmi from './commands/rmi.js';
import Run from './commands/run.js';
import Save from './commands/save.js';
import Start from './commands/start.js';
import Stop from './commands/stop.js';
import Tag from './commands/tag.js';
import VmLogs from './commands/vm/logs.js';
import VmLs from './commands/vm/ls.js';
import VmRm from './commands/vm/rm.js';
import VmRun from './commands/vm/run.js';
import VmStop from './commands/vm/stop.js';
import Wait from './commands/wait.js';

export const COMMANDS = {
  'container:inspect': ContainerInspect,
  create: Create,
  doctor: Doctor,
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
  ps: Ps,
  pull: Pull,
  push: Push,
  rm: Rm,
  rmi: Rmi,
  run: Run,
  save: Save,
  start: Start,
  stop: Stop,
  tag: Tag,
  'vm:logs': VmLogs,
  'vm:ls': VmLs,
  'vm:rm': VmRm,
  'vm:run': VmRun,
  'vm:stop': VmStop,
  wait: Wait,
};
