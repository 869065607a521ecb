#!/usr/bin/env node
import { commandsFor } from './commands/lazy.js';
import { runCli } from './run-cli.js';

const controller = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => controller.abort());

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
