import { raiseOwnThreadPriority } from '../../util/thread-priority.js';
import { DeadmanHelper, type HelperLog } from './helper.js';
import { holdLifeline } from './lifeline.js';
import { LineDecoder } from './protocol.js';

/**
 * Entry point of the deadman helper process, started by DeadmanClient.spawn as
 * `node main.js` in its own process group with only a stdio pipe to the agent. It must
 * outlive the agent: terminal signals are ignored, and it ends only through `stop`, after the
 * pipe closes and it has fenced what was armed, or by SIGKILL.
 */

let nodeName: string | undefined;

const log: HelperLog = (level, fields, msg) => {
  const record = {
    time: new Date().toISOString(),
    level,
    name: 'halo-deadman',
    node: nodeName,
    pid: process.pid,
    ...fields,
    msg,
  };
  try {
    process.stderr.write(`${JSON.stringify(record)}\n`);
  } catch {
    // Nobody reads our stderr any more; fencing matters more than logging.
  }
};

// A fence that waits behind other runnable work is a late fence.
const priorityProblem = raiseOwnThreadPriority();
if (priorityProblem) log('info', { reason: priorityProblem }, 'helper runs at normal priority');

// A closed reader must not kill us with EPIPE.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

// Ctrl-C or a closing terminal aimed at the agent's session must not take the helper down;
// a planned shutdown goes through the agent's `stop` request instead.
for (const signal of ['SIGINT', 'SIGHUP', 'SIGTERM'] as const) {
  process.on(signal, () =>
    log('warn', { signal }, 'signal ignored; the agent stops the helper through its pipe'),
  );
}

process.on('uncaughtException', (err) =>
  log('error', { err: err.message, stack: err.stack }, 'uncaught exception'),
);
process.on('unhandledRejection', (err) => log('error', { err: String(err) }, 'unhandled rejection'));

const helper = new DeadmanHelper({
  reply: (msg) => {
    try {
      process.stdout.write(`${JSON.stringify(msg)}\n`);
    } catch {
      // The agent is gone; agentGone() handles that.
    }
  },
  log,
  exit: (code) => process.exit(code),
});

const decoder = new LineDecoder(
  (value) => {
    const v = value as { t?: unknown; nodeName?: unknown; lifeline?: unknown };
    if (v.t === 'init' && typeof v.nodeName === 'string') nodeName = v.nodeName;
    // Held (never closed) until this process ends: with the agent's own hold it keeps the
    // resources' lifeline watchers waiting; see lifeline.ts.
    if (v.t === 'init' && typeof v.lifeline === 'string' && holdLifeline(v.lifeline) === null)
      log('warn', { lifeline: v.lifeline }, 'no lifeline to hold');
    helper.handle(value);
  },
  (length) => log('warn', { length }, 'ignored a line from the agent that is not JSON'),
);

let gone = false;
const onGone = (why: string) => {
  if (gone) return;
  gone = true;
  log('info', { why }, 'pipe to the agent closed');
  helper.agentGone();
};

process.stdin.on('data', (chunk: Buffer) => decoder.push(chunk));
process.stdin.on('end', () => onGone('eof'));
process.stdin.on('close', () => onGone('close'));
process.stdin.on('error', (err) => onGone(err.message));
