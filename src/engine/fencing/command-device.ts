import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { FenceDeviceConfig } from '../../config/model.js';
import { baseEnv } from '../../util/command-env.js';
import { privateFileProblem } from '../../util/private-file.js';
import { OutputTail } from '../exec/output-tail.js';
import { terminateTree } from '../exec/process-tree.js';
import type { FenceDevice, FenceDeviceContext } from './types.js';

type CommandDeviceConfig = Extract<FenceDeviceConfig, { type: 'command' }>;

/**
 * The `command` fence device: any fence-agents agent (fence_ipmilan, fence_aws,
 * fence_azure_arm…) driven through the agents' stdin protocol (ClusterLabs
 * fence-agents, doc/FenceAgentAPI.md): the agent is run without arguments and reads
 * `name=value` lines on stdin. Halo sends `action=off`, then `action=status` until the agent
 * reports the node OFF (status exit code 2; 0 means ON, anything else an error), so the group
 * starts only on a power state read back from the device, not on a command that merely
 * returned. The password comes from `passwordFile` (mode 0600) and goes only on stdin: never
 * argv, the environment or a log line; the agent's output is kept for the error message with
 * every occurrence of the password masked.
 */

/** fence-agents' exit codes for action=status. */
const STATUS_ON = 0;
const STATUS_OFF = 2;
/** Pause between status reads while the device still reports ON. */
const STATUS_POLL_MS = 1000;

export function commandFenceDevice(config: CommandDeviceConfig, ctx: FenceDeviceContext): FenceDevice {
  return {
    async fence(node, signal) {
      const password = await readPassword(config.passwordFile);
      const lines = (action: string) =>
        stdinLines({ ...config.options, ...config.nodes[node], action }, password);
      const off = await runAgent(config.agent, lines('off'), password, signal);
      if (off.code !== 0)
        throw new Error(`${config.agent} action=off for ${node} failed (${describe(off)})${tailOf(off)}`);
      ctx.log.info({ node, agent: config.agent }, 'fence: agent reported off; reading the power status');
      for (;;) {
        const status = await runAgent(config.agent, lines('status'), password, signal);
        if (status.code === STATUS_OFF) return { detail: `${config.agent} reports ${node} OFF` };
        if (status.code !== STATUS_ON)
          throw new Error(
            `${config.agent} action=status for ${node} failed (${describe(status)})${tailOf(status)}`,
          );
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, STATUS_POLL_MS);
          signal.addEventListener(
            'abort',
            () => {
              clearTimeout(t);
              reject(new Error(`${config.agent} still reports ${node} ON when the fence timed out`));
            },
            { once: true },
          );
        });
      }
    },
  };
}

async function readPassword(file: string | undefined): Promise<string | undefined> {
  if (file === undefined) return undefined;
  const problem = privateFileProblem(file, 'fence device password');
  if (problem) throw new Error(problem);
  return (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
}

/** The stdin document: one `name=value` per line, the password last (fence-agents protocol). */
export function stdinLines(options: Record<string, string>, password: string | undefined): string {
  const entries = Object.entries(options).map(([k, v]) => `${k}=${v}`);
  if (password !== undefined) entries.push(`password=${password}`);
  return `${entries.join('\n')}\n`;
}

interface AgentRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  aborted: boolean;
  spawnError?: string;
}

function runAgent(
  agent: string,
  input: string,
  secret: string | undefined,
  signal: AbortSignal,
): Promise<AgentRun> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve({ code: null, signal: null, output: '', aborted: true });
      return;
    }
    // Own process group, so a timeout ends the agent and whatever it ran (ipmitool, ssh).
    const child = spawn(agent, [], { env: baseEnv(), stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const tail = new OutputTail(16 * 1024);
    child.stdout.on('data', (b: Buffer) => tail.push(b));
    child.stderr.on('data', (b: Buffer) => tail.push(b));
    let aborted = false;
    let ending: Promise<unknown> | undefined;
    const onAbort = () => {
      aborted = true;
      if (child.pid !== undefined) ending ??= terminateTree(child.pid, { signal: 'SIGTERM', graceMs: 1000 });
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const mask = (text: string) => (secret ? text.split(secret).join('***') : text);
    child.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      resolve({ code: null, signal: null, output: '', aborted, spawnError: err.message });
    });
    child.once('close', async (code, sig) => {
      signal.removeEventListener('abort', onAbort);
      if (ending) await ending;
      resolve({ code, signal: sig, output: mask(tail.text()), aborted });
    });
    child.stdin.on('error', () => {
      // An agent that exits without reading stdin: its exit code tells what happened.
    });
    child.stdin.end(input);
  });
}

function describe(r: AgentRun): string {
  if (r.spawnError) return `could not run it: ${r.spawnError}`;
  if (r.aborted) return 'stopped at the fence timeout';
  if (r.signal) return `killed by ${r.signal}`;
  return `exit code ${r.code}`;
}

function tailOf(r: AgentRun): string {
  const last = r.output.trim().split('\n').slice(-3).join(' | ');
  return last ? `: ${last.slice(0, 400)}` : '';
}
