import { spawn } from 'node:child_process';
import type { AlertReceiverConfig } from '../../config/model.js';
import type { Alert } from '../alert.js';
import { alertEnv } from '../pacemaker-env.js';

type ScriptConfig = Extract<AlertReceiverConfig, { type: 'script' }>;

const MAX_OUTPUT = 4096;

/**
 * Runs the agent without a shell, with only PATH/LANG from the agent's own environment, the
 * receiver's `env` and the alert variables: no secret of the agent leaks into it. A non-zero
 * exit fails the delivery with the agent's output; the queue's timeout kills it (SIGKILL).
 */
export function scriptSender(cfg: ScriptConfig) {
  return (alert: Alert, signal: AbortSignal): Promise<void> =>
    new Promise((resolve, reject) => {
      const env = {
        PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
        LANG: process.env['LANG'] ?? 'C.UTF-8',
        ...cfg.env,
        ...alertEnv(alert, cfg.recipient, cfg.timestampFormat),
      };
      const child = spawn(cfg.path, [], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        signal,
        killSignal: 'SIGKILL',
      });
      let output = '';
      const collect = (chunk: Buffer) => {
        if (output.length < MAX_OUTPUT) output += chunk.toString('utf8');
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      child.on('error', (err) => reject(signal.aborted ? (signal.reason as Error) : err));
      child.on('close', (code, sig) => {
        if (code === 0) return resolve();
        const how = code === null ? `killed by ${sig}` : `exited with ${code}`;
        reject(
          new Error(`${cfg.path} ${how}${output.trim() ? `: ${output.trim().slice(0, MAX_OUTPUT)}` : ''}`),
        );
      });
    });
}
