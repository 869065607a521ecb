import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../log.js';
import { LineDecoder } from '../../util/line-decoder.js';
import { forkCommand } from './fork-command.js';
import type {
  FromLauncher,
  Launched,
  LaunchOptions,
  LaunchOutcome,
  OutputSink,
  ToLauncher,
} from './launcher-protocol.js';

export const LAUNCHER_MAIN = fileURLToPath(new URL('./launcher-main.js', import.meta.url));

interface Pending {
  onOutput: OutputSink;
  pid: (pid: number | undefined) => void;
  done: (o: LaunchOutcome) => void;
}

/**
 * The agent's side of the launcher process (see launcher-main.ts for why commands are not
 * forked from the agent itself). One launcher per agent, started once; if it dies, commands
 * that were running through it end with an error (their processes go on; nobody reports
 * their exit) and the next command starts a new one.
 */
export class Launcher {
  private child: ChildProcess | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly log?: Logger) {}

  run(file: string, args: string[], options: LaunchOptions, onOutput: OutputSink): Launched {
    const child = this.ensure();
    const id = this.nextId++;
    let resolvePid!: (pid: number | undefined) => void;
    let resolveDone!: (o: LaunchOutcome) => void;
    const pid = new Promise<number | undefined>((r) => (resolvePid = r));
    const outcome = new Promise<LaunchOutcome>((r) => (resolveDone = r));
    this.pending.set(id, { onOutput, pid: resolvePid, done: resolveDone });
    const req: ToLauncher = { t: 'run', id, file, args, options };
    child.stdin?.write(`${JSON.stringify(req)}\n`);
    return { pid, outcome };
  }

  /** Ends the launcher (the agent stops); commands still running go on. */
  close(): void {
    this.closed = true;
    this.child?.stdin?.end();
    this.child = null;
  }

  private ensure(): ChildProcess {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) return this.child;
    const child = spawn(
      process.execPath,
      ['--lite-mode', '--no-expose-wasm', '--max-semi-space-size=1', LAUNCHER_MAIN],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
        // Own process group: Ctrl-C aimed at the agent must not end it before the agent's stop
        // has run its resources' stop commands. It ends when the agent closes its stdin.
        detached: true,
        // The launcher is not a resource command; it needs no more than the agent's own environment.
        env: process.env,
      },
    );
    const decoder = new LineDecoder(
      (value) => this.onMessage(value as FromLauncher),
      (length) => this.log?.warn({ length }, 'launcher sent a line that is not JSON'),
    );
    child.stdout?.on('data', (chunk: Buffer) => decoder.push(chunk));
    child.stdin?.on('error', () => {});
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      if (!this.closed)
        this.log?.error({ code, signal, running: this.pending.size }, 'command launcher exited');
      const err = Object.assign(new Error('the command launcher exited while the command ran'), {
        code: 'ELAUNCHER',
      });
      for (const p of this.pending.values()) {
        p.pid(undefined);
        p.done({ code: null, signal: null, error: err });
      }
      this.pending.clear();
    });
    this.child = child;
    return child;
  }

  private onMessage(m: FromLauncher): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.t === 'pid') p.pid(m.pid);
    else if (m.t === 'out') p.onOutput(Buffer.from(m.d, 'base64'), m.e ? 'stderr' : 'stdout');
    else {
      this.pending.delete(m.id);
      p.pid(undefined);
      if (m.t === 'exit') p.done({ code: m.code, signal: m.signal });
      else
        p.done({
          code: null,
          signal: null,
          error: Object.assign(new Error(m.message), m.code ? { code: m.code } : {}),
        });
    }
  }
}

let current: Launcher | null = null;

/** Commands run through `launcher` from now on (null: forked by this process again). */
export function useLauncher(launcher: Launcher | null): void {
  current = launcher;
}

/** Starts a command through the launcher in use, or forks it from this process when there is none. */
export function launch(file: string, args: string[], options: LaunchOptions, capture: OutputSink): Launched {
  return current ? current.run(file, args, options, capture) : forkCommand(file, args, options, capture);
}
