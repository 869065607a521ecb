export { holdFile, holdGroup, lifelineFd3, useLifeline, watchedArgv } from './lifeline-watch.js';
export { LAST_LINE_MAX_CHARS, lastLine, OutputTail } from './output-tail.js';
export { type ProcEntry, readCmdline } from './proc-table.js';
export {
  type FoundProcess,
  findProcesses,
  isAlive,
  killTree,
  processTreePids,
  type TerminateOptions,
  type TerminateResult,
  terminateTree,
} from './process-tree.js';
export { assertCanRunAs, resolveUser, type UserIds } from './run-as.js';
export { type RunOptions, type RunResult, runCommand } from './run-command.js';
export {
  buildSpawn,
  type Command,
  commandArgv,
  describeCommand,
  explainSpawnError,
  findSetpriv,
  SETPRIV_PATHS,
  type SpawnSpec,
} from './spawn-spec.js';
