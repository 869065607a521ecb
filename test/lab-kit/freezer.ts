import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Whole-process-group freezes (fault scenario 13) with the cgroup v1 freezer, the
 * hierarchy this VM mounts; cgroup v2 (`cgroup.freeze`) is used when v1 is absent.
 * A frozen task ignores even SIGKILL until thawed, so teardown thaws first.
 */

const V1 = '/sys/fs/cgroup/freezer';
const V2 = '/sys/fs/cgroup/unified';

export class Freezer {
  private readonly path: string;
  private readonly v1: boolean;

  constructor(name: string) {
    this.v1 = existsSync(`${V1}/freezer.state`) || existsSync(`${V1}/cgroup.procs`);
    this.path = `${this.v1 ? V1 : V2}/${name}`;
  }

  static available(): boolean {
    return existsSync(`${V1}/cgroup.procs`) || existsSync(`${V2}/cgroup.procs`);
  }

  async freeze(pids: readonly number[]): Promise<void> {
    mkdirSync(this.path, { recursive: true });
    for (const pid of pids) {
      try {
        writeFileSync(`${this.path}/cgroup.procs`, String(pid));
      } catch {
        // Exited meanwhile.
      }
    }
    if (this.v1) writeFileSync(`${this.path}/freezer.state`, 'FROZEN');
    else writeFileSync(`${this.path}/cgroup.freeze`, '1');
    for (let i = 0; i < 100 && !this.frozen(); i++) await sleep(5);
  }

  frozen(): boolean {
    try {
      if (this.v1) return readFileSync(`${this.path}/freezer.state`, 'utf8').trim() === 'FROZEN';
      return /frozen 1/.test(readFileSync(`${this.path}/cgroup.events`, 'utf8'));
    } catch {
      return false;
    }
  }

  thaw(): void {
    if (!existsSync(this.path)) return;
    try {
      if (this.v1) writeFileSync(`${this.path}/freezer.state`, 'THAWED');
      else writeFileSync(`${this.path}/cgroup.freeze`, '0');
    } catch {
      // Gone.
    }
  }

  /** Thaws and, once its tasks are gone or moved, removes the cgroup. */
  remove(): void {
    this.thaw();
    if (!existsSync(this.path)) return;
    try {
      const root = this.v1 ? V1 : V2;
      for (const pid of readFileSync(`${this.path}/cgroup.procs`, 'utf8').split('\n').filter(Boolean))
        writeFileSync(`${root}/cgroup.procs`, pid);
      rmdirSync(this.path);
    } catch {
      // Tasks still exiting; the namespace teardown kills them.
    }
  }
}
