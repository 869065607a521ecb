#!/usr/bin/env node
import { commandsFor } from './commands/lazy.js';
import { runCli } from './run-cli.js';

const controller = new AbortController();
// The first signal asks the command to stop in order (an agent stops its groups, the demo its
// cluster); the second only says so, because an impatient second Ctrl-C used to kill the
// process half-way; the third exits at once (`exit` handlers still run).
let signals = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    signals++;
    if (signals === 1) controller.abort();
    else if (signals === 2) process.stderr.write(`halo: stopping; ${sig} once more to exit at once\n`);
    else process.exit(sig === 'SIGINT' ? 130 : 143);
  });

const argv = process.argv.slice(2);
const code = await runCli(argv, await commandsFor(argv), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  signal: controller.signal,
});
// Exit now: a command that failed half-way (an agent that could not bind its address) may
// leave timers or sockets behind, and a process that lingers after its error hides it from
// systemd (no restart, the unit looks healthy).
process.exit(code);
