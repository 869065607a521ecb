import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fchownSync,
  fsyncSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { CONFIG_PUSH_BODY_LIMIT } from '../api/body-limits.js';
import { schemas } from '../api/openapi.js';
import { type ConfigDiff, diffConfig, isEmptyDiff } from '../config/config-diff.js';
import type { HaloConfig } from '../config/model.js';
import { HaloError, isHaloError } from '../errors.js';
import type { Logger } from '../log.js';
import { parseConfigOffThread } from './config-parse.js';

/**
 * The agent's half of `halo config push`: it checks a pushed config against
 * this node and writes it, atomically, over the file the agent was started with, keeping the
 * previous version as FILE.prev. There is no hot reload: the running config (and its epoch,
 * which every peer message carries) stays until the agent restarts, so a node never changes
 * its vote rules under a lease it granted. Until then status reports the version as pending.
 */

/** Which config this node runs and which one waits in its file for the next restart. */
export interface ConfigVersion {
  /** The config file on this node (symlinks resolved). */
  file: string;
  /** Epoch of the config the agent runs (hex, as in status `epoch`). */
  runningEpoch: string;
  /** Epoch of the file on disk now; null when it cannot be read or is not valid. */
  storedEpoch: string | null;
  /** The file differs from what runs (or the file is broken and a restart would fail). */
  pending: boolean;
  /**
   * The difference is one `halo config apply` makes without a restart: the same epoch (what
   * the agents coordinate on), other parameters, monitors or alerts.
   */
  reloadable: boolean;
  /** Why storedEpoch is null: the restart would fail with this. */
  storedError?: string;
}

export interface PushResult {
  node: string;
  file: string;
  runningEpoch: string;
  storedEpoch: string;
  /** False when the file already held exactly this text: nothing was written, .prev kept. */
  changed: boolean;
  pending: boolean;
  /** See ConfigVersion.reloadable. */
  reloadable: boolean;
}

/** What `apply` did to the running agent. */
export interface ReloadResult<R> {
  node: string;
  file: string;
  /** False when the file holds what already runs. */
  changed: boolean;
  runningEpoch: string;
  report: R | null;
}

export interface ConfigStoreOptions {
  running: HaloConfig;
  node: string;
  log: Logger;
  /** Told after a new version is written (the agent records an event). */
  onStored?: (result: PushResult) => void;
  /**
   * fileKey() of the config file taken before the agent read `running` from it: lets the
   * first status call skip parsing the file again (if the file changed since, the key differs).
   */
  runningKey?: string | undefined;
}

/** Identity of a file's current content, cheap to take: a change of the file changes it. */
export function fileKey(file: string): string {
  const st = statSync(file);
  return `${st.ino}:${st.size}:${st.mtimeMs}`;
}

const hex = (epoch: number) => epoch.toString(16);
const MAX_ERROR_CHARS = 2000;

/** The version of the file on disk (null: not readable or not valid, `error` says why). */
interface StoredVersion {
  epoch: string | null;
  version: number | null;
  error?: string;
}

export class ConfigStore {
  private readonly opts: ConfigStoreOptions;
  /** Stored version cached by file identity, so status does not parse YAML on every call. */
  private cache: (StoredVersion & { key: string }) | undefined;
  /** The parse of the stored file under way, shared by concurrent status calls. */
  private parsing: { key: string; done: Promise<StoredVersion> } | undefined;
  /** Pushes run one at a time: one parsing thread at most, and a .prev that is the version before. */
  private pushes: Promise<unknown> = Promise.resolve();

  constructor(opts: ConfigStoreOptions) {
    this.opts = opts;
    if (opts.runningKey !== undefined)
      this.cache = { key: opts.runningKey, epoch: hex(opts.running.epoch), version: opts.running.version };
  }

  /** The config the agent runs, which `reload` replaces. */
  get running(): HaloConfig {
    return this.opts.running;
  }

  async version(): Promise<ConfigVersion> {
    const file = this.target();
    const runningEpoch = hex(this.opts.running.epoch);
    let key: string;
    try {
      key = fileKey(file);
    } catch (err) {
      const error = `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
      return { file, runningEpoch, storedEpoch: null, pending: true, reloadable: false, storedError: error };
    }
    if (this.cache?.key !== key) {
      if (this.parsing?.key !== key) this.parsing = { key, done: this.parseStored(file) };
      const parsing = this.parsing;
      const parsed = await parsing.done;
      if (this.parsing === parsing) this.parsing = undefined;
      this.cache = { key, ...parsed };
    }
    const { epoch, version, error } = this.cache;
    const pending = epoch === null || version !== this.opts.running.version;
    return {
      file,
      runningEpoch,
      storedEpoch: epoch,
      pending,
      reloadable: pending && epoch === runningEpoch,
      ...(error !== undefined ? { storedError: error } : {}),
    };
  }

  /**
   * Validates `yaml` for this node and writes it. Refuses (and writes nothing) when it is not
   * valid here — its key and token files must exist on this node — when it is for another
   * cluster, when it no longer lists this node, or when the CLI computed another epoch (a
   * different Halo version would disagree on the epoch, and so on the quorum). With `dryRun`
   * only the checks run.
   */
  store(yaml: string, epoch: string, opts: { dryRun?: boolean } = {}): Promise<PushResult> {
    const next = this.pushes.then(() => this.storeNow(yaml, epoch, opts));
    this.pushes = next.catch(() => {});
    return next;
  }

  private async storeNow(yaml: string, epoch: string, opts: { dryRun?: boolean }): Promise<PushResult> {
    const { running, node } = this.opts;
    const file = this.target();
    const pushed = await parseConfigOffThread(yaml, file, { baseDir: dirname(file), absPath: running.file });
    if (pushed.cluster.name !== running.cluster.name) {
      throw new HaloError(
        'HALO_E_CONFLICT',
        `this agent runs cluster "${running.cluster.name}"; the pushed config is for cluster "${pushed.cluster.name}". Push it to that cluster's nodes`,
        { running: running.cluster.name, pushed: pushed.cluster.name },
      );
    }
    if (!pushed.nodes.some((n) => n.name === node)) {
      throw new HaloError(
        'HALO_E_CONFLICT',
        `the pushed config does not list this node (${node}); to remove a node, stop its agent first and push to the others only`,
        { node },
      );
    }
    const storedEpoch = hex(pushed.epoch);
    if (storedEpoch !== epoch.toLowerCase()) {
      throw new HaloError(
        'HALO_E_CONFLICT',
        `this agent computes epoch ${storedEpoch} for the pushed config, the CLI computed ${epoch}; use the halo CLI of the same version as the agents`,
        { agent: storedEpoch, cli: epoch },
      );
    }
    const pending = pushed.version !== running.version;
    const result = (changed: boolean): PushResult => ({
      node,
      file,
      runningEpoch: hex(running.epoch),
      storedEpoch,
      changed,
      pending,
      reloadable: pending && storedEpoch === hex(running.epoch),
    });
    const current = readOrEmpty(file);
    if (opts.dryRun) return result(current !== yaml);
    if (current === yaml) return result(false);
    try {
      if (current !== undefined) atomicWrite(`${file}.prev`, current, file);
      atomicWrite(file, yaml, file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      throw new HaloError(
        ['EACCES', 'EPERM', 'EROFS'].includes(code) ? 'HALO_E_PERMISSION' : 'HALO_E_INTERNAL',
        `cannot write ${file}: ${(err as Error).message}`,
        { file },
      );
    }
    // What was just written has this epoch: status must not parse 4 MiB again to learn it.
    try {
      this.cache = { key: fileKey(file), epoch: storedEpoch, version: pushed.version };
    } catch {
      this.cache = undefined;
    }
    const done = result(true);
    this.opts.log.info(
      { file, runningEpoch: done.runningEpoch, storedEpoch },
      done.reloadable
        ? 'config stored; `halo config apply` applies it'
        : 'config stored; it applies when the agent restarts',
    );
    this.opts.onStored?.(done);
    return done;
  }

  /** The file to replace: the target of a symlink, so the link stays a link. */
  private target(): string {
    try {
      return realpathSync(this.opts.running.file);
    } catch {
      return this.opts.running.file;
    }
  }

  /**
   * `halo config apply`: reads the config file again and, when its difference from the running
   * config is one the running agent can take (see config-diff.ts), hands it to `apply`; then it
   * is the running config. Runs in turn with pushes. Refuses, changing nothing, when the file
   * is invalid here or its change needs the rolling restart.
   */
  reload<R>(apply: (next: HaloConfig, diff: ConfigDiff) => Promise<R>): Promise<ReloadResult<R>> {
    const next = this.pushes.then(() => this.reloadNow(apply));
    this.pushes = next.catch(() => {});
    return next;
  }

  private async reloadNow<R>(
    apply: (next: HaloConfig, diff: ConfigDiff) => Promise<R>,
  ): Promise<ReloadResult<R>> {
    const { node } = this.opts;
    const file = this.target();
    const running = this.opts.running;
    const text = readOrEmpty(file);
    if (text === undefined) throw new HaloError('HALO_E_CONFIG_INVALID', `cannot read ${file}`, { file });
    const next = await parseConfigOffThread(text, file, { baseDir: dirname(file), absPath: running.file });
    const result = (changed: boolean, report: R | null): ReloadResult<R> => ({
      node,
      file,
      changed,
      runningEpoch: hex(this.opts.running.epoch),
      report,
    });
    if (next.version === running.version) return result(false, null);
    const diff = diffConfig(running, next);
    if (diff.needsRestart.length > 0)
      throw new HaloError(
        'HALO_E_CONFLICT',
        `${file} changes ${diff.needsRestart.join('; ')}: that needs a rolling restart of the agents (see \`halo config push\`); nothing was applied`,
        { needsRestart: diff.needsRestart },
      );
    const report = await apply(next, diff);
    this.opts.running = next;
    try {
      this.cache = { key: fileKey(file), epoch: hex(next.epoch), version: next.version };
    } catch {
      this.cache = undefined;
    }
    return result(!isEmptyDiff(diff), report);
  }

  private async parseStored(file: string): Promise<StoredVersion> {
    try {
      const text = readFileSync(file, 'utf8');
      const stored = await parseConfigOffThread(text, file, {
        checkFiles: false,
        baseDir: dirname(file),
        absPath: file,
      });
      return { epoch: hex(stored.epoch), version: stored.version };
    } catch (err) {
      const message = isHaloError(err) || err instanceof Error ? err.message : String(err);
      return { epoch: null, version: null, error: message.slice(0, MAX_ERROR_CHARS) };
    }
  }
}

function readOrEmpty(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Write-to-temp, fsync, rename, fsync the directory: after a crash at any point the file is
 * either the old version or the new one, never half of each. Mode and owner follow `like`.
 */
function atomicWrite(path: string, text: string, like: string): void {
  let mode = 0o644;
  let owner: { uid: number; gid: number } | undefined;
  try {
    const st = statSync(like);
    mode = st.mode & 0o7777;
    owner = { uid: st.uid, gid: st.gid };
  } catch {
    // A new file: the default mode.
  }
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    try {
      writeFileSync(fd, text);
      fchmodSync(fd, mode); // the umask must not change it
      if (owner && process.getuid?.() === 0) fchownSync(fd, owner.uid, owner.gid);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // Already renamed or never created.
    }
    throw err;
  }
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/**
 * `PUT /v1/config {yaml, epoch, dryRun?}` stores a pushed config (read-write token only; the
 * API's auth hook refuses other tokens for non-GET requests); `GET /v1/config` reports the
 * running and stored versions; `POST /v1/config/apply {mode?}` applies the stored one.
 */
export function registerConfigPush(
  app: FastifyInstance,
  store: ConfigStore,
  apply: (mode: 'restart' | 'next-start') => Promise<unknown>,
): void {
  app.post<{ Body: { mode?: 'restart' | 'next-start' } }>(
    '/v1/config/apply',
    { schema: { body: schemas.ConfigApply } },
    async (req) => apply(req.body?.mode ?? 'restart'),
  );
  app.get('/v1/config', async () => store.version());
  app.put<{ Body: { yaml: string; epoch: string; dryRun?: boolean } }>(
    '/v1/config',
    { schema: { body: schemas.ConfigPush }, bodyLimit: CONFIG_PUSH_BODY_LIMIT },
    async (req) => store.store(req.body.yaml, req.body.epoch, { dryRun: req.body.dryRun === true }),
  );
}
