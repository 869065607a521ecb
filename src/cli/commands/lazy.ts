import type { Command } from '../command.js';
import { findCommand } from '../run-cli.js';

/**
 * The module of each command, by the command's first word. A CLI call loads only the module
 * of the command it runs: loading all of them took ~0.5 s and ~30 MB before any work (the
 * agent's server, the config catalog, the importers…), for every `halo status` and for the
 * witness, which needs none of the agent's code. A test checks this table against
 * `commands` in index.ts, which stays the full list for help and suggestions.
 */
const BY_FIRST_WORD: Record<string, () => Promise<Command[]>> = {
  agent: async () => [(await import('./agent.js')).agentCommand],
  witness: async () => [(await import('./witness.js')).witnessCommand],
  status: async () => [(await import('./status.js')).statusCommand],
  move: groupCommands,
  start: groupCommands,
  stop: groupCommands,
  cleanup: groupCommands,
  monitor: groupCommands,
  node: groupCommands,
  maintenance: groupCommands,
  resource: async () => {
    const [values, describe] = await Promise.all([import('./resource.js'), import('./resource-describe.js')]);
    return [values.resourceGetCommand, values.resourceSetCommand, describe.resourceDescribeCommand];
  },
  events: async () => [(await import('./events.js')).eventsCommand],
  config: async () => {
    const [validate, push, apply] = await Promise.all([
      import('./config-validate.js'),
      import('./config-push.js'),
      import('./config-apply.js'),
    ]);
    return [validate.configValidate, push.configPush, apply.configApply];
  },
  import: async () => {
    const m = await import('./import.js');
    return [m.importPacemakerCommand, m.importKeepalivedCommand];
  },
  doctor: async () => [(await import('./doctor.js')).doctorCommand],
  destroy: async () => [(await import('./destroy.js')).destroyCommand],
  demo: async () => [(await import('./demo.js')).demoCommand],
  version: async () => [(await import('./version.js')).versionCommand],
};

async function groupCommands(): Promise<Command[]> {
  const m = await import('./groups.js');
  return [
    m.moveCommand,
    m.startCommand,
    m.stopCommand,
    m.cleanupCommand,
    m.monitorSuspendCommand,
    m.monitorResumeCommand,
    m.nodeStandbyCommand,
    m.nodeUnstandbyCommand,
    m.maintenanceOnCommand,
    m.maintenanceOffCommand,
  ];
}

/** The first words the table knows (for the test that keeps it complete). */
export const LAZY_FIRST_WORDS: readonly string[] = Object.keys(BY_FIRST_WORD);

/**
 * The commands to hand to runCli for ARGV: those of the named command's module when ARGV
 * names one; otherwise (help, a typo, a group name alone) all of them, so help and "did you
 * mean" see every command.
 */
export async function commandsFor(argv: readonly string[]): Promise<Command[]> {
  const first = argv[0];
  const load = first !== undefined && Object.hasOwn(BY_FIRST_WORD, first) ? BY_FIRST_WORD[first] : undefined;
  if (load) {
    const some = await load();
    if (findCommand([...argv], some)) return some;
  }
  return (await import('./index.js')).commands;
}
