import type { Command } from '../command.js';
import { agentCommand } from './agent.js';
import { configApply } from './config-apply.js';
import { configPush } from './config-push.js';
import { configValidate } from './config-validate.js';
import { demoCommand } from './demo.js';
import { destroyCommand } from './destroy.js';
import { doctorCommand } from './doctor.js';
import { eventsCommand } from './events.js';
import {
  cleanupCommand,
  maintenanceOffCommand,
  maintenanceOnCommand,
  monitorResumeCommand,
  monitorSuspendCommand,
  moveCommand,
  nodeStandbyCommand,
  nodeUnstandbyCommand,
  startCommand,
  stopCommand,
} from './groups.js';
import { importKeepalivedCommand, importPacemakerCommand } from './import.js';
import { resourceGetCommand, resourceSetCommand } from './resource.js';
import { resourceDescribeCommand } from './resource-describe.js';
import { statusCommand } from './status.js';
import { versionCommand } from './version.js';
import { witnessCommand } from './witness.js';

/** Every CLI command, listed by hand (help shows them in this order). */
export const commands: Command[] = [
  agentCommand,
  witnessCommand,
  statusCommand,
  moveCommand,
  startCommand,
  stopCommand,
  cleanupCommand,
  resourceGetCommand,
  resourceSetCommand,
  resourceDescribeCommand,
  monitorSuspendCommand,
  monitorResumeCommand,
  nodeStandbyCommand,
  nodeUnstandbyCommand,
  maintenanceOnCommand,
  maintenanceOffCommand,
  eventsCommand,
  configValidate,
  configPush,
  configApply,
  importPacemakerCommand,
  importKeepalivedCommand,
  doctorCommand,
  destroyCommand,
  demoCommand,
  versionCommand,
];
