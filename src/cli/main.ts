#!/usr/bin/env node
import { getEventListeners } from 'node:events';
import { commandsFor } from './commands/lazy.js';
import { runCli } from './run-cli.js';

const controller = new AbortController();
// The first signal asks a command that listens for it to stop in order (an agent stops its
// groups, the demo its cluster); a command that does not listen ends at once. A second signal
// only says the stop is under way (an impatient second Ctrl-C used to kill the demo half-way
// and leave its cluster running); the third exits at once (`exit` handlers still run).
let signals = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    signals++;
    const code = sig === 'SIGINT' ? 130 : 143;
    if (signals === 1 && getEventListeners(controller.signal, 'abort').length === 0) process.exit(code);
    if (signals === 1) controller.abort();
    else if (signals === 2) process.stderr.write(`halo: stopping; ${sig} once more to exit at once\n`);
    else process.exit(code);
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
