import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, runSync } from './exec.js';

/**
 * Network namespaces the lab owns. Every name is `halo-<creator pid>-<lab number>-<role>`,
 * so a later run can tell a leftover of a dead run (creator pid gone) from a live one and
 * sweep it, and two runs never collide.
 */

export const NS_PREFIX = 'halo-';
const OWNED = /^halo-(\d+)-(\d+)-/;

let labCounter = 0;

/** A fresh `halo-<pid>-<n>-` prefix for one lab. */
export function nextLabPrefix(): string {
  labCounter += 1;
  return `${NS_PREFIX}${process.pid}-${labCounter}-`;
}

export async function listNamespaces(): Promise<string[]> {
  const r = await run(['ip', 'netns', 'list'], { allowFail: true });
  return parseNetnsList(r.stdout);
}

function parseNetnsList(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

export async function nsPids(ns: string): Promise<number[]> {
  const r = await run(['ip', 'netns', 'pids', ns], { allowFail: true });
  return parsePids(r.stdout);
}

function parsePids(text: string): number[] {
  return text
    .split(/\s+/)
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((p) => p !== process.pid);
}

function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** SIGKILLs every process in the namespace and waits (bounded) until none is left. */
export async function killNamespaceProcesses(
  ns: string,
  timeoutMs = 3000,
  spare: ReadonlySet<number> = new Set(),
): Promise<number[]> {
  const killed: number[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = (await nsPids(ns)).filter((p) => !spare.has(p));
    if (pids.length === 0 || Date.now() > deadline) return killed;
    killAll(pids);
    killed.push(...pids.filter((p) => !killed.includes(p)));
    await sleep(20);
  }
}

/** Kills what runs inside, then deletes the namespace (its veths and bridge go with it). */
export async function removeNamespace(ns: string): Promise<void> {
  await killNamespaceProcesses(ns);
  await run(['ip', 'netns', 'del', ns], { allowFail: true });
}

export function removeNamespaceSync(ns: string): void {
  for (let i = 0; i < 50; i++) {
    const pids = parsePids(runSync(['ip', 'netns', 'pids', ns]).stdout);
    if (pids.length === 0) break;
    killAll(pids);
    runSync(['sleep', '0.02']);
  }
  runSync(['ip', 'netns', 'del', ns]);
}

/** Namespaces of `prefix` (a lab), or of dead creators when no prefix is given. */
export function staleNamespaces(names: readonly string[]): string[] {
  return names.filter((name) => {
    const m = OWNED.exec(name);
    return m !== null && !existsSync(`/proc/${m[1]}`);
  });
}

/** Removes leftovers of runs whose creator process is dead (a crashed or SIGKILLed test). */
export async function sweepStale(): Promise<string[]> {
  const stale = staleNamespaces(await listNamespaces());
  for (const ns of stale) await removeNamespace(ns);
  return stale;
}

export async function createNamespace(ns: string): Promise<void> {
  await run(['ip', 'netns', 'add', ns]);
  await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
}

/** Namespaces whose names start with `prefix`, read synchronously (exit handlers). */
export function namespacesWithPrefixSync(prefix: string): string[] {
  return parseNetnsList(runSync(['ip', 'netns', 'list']).stdout).filter((n) => n.startsWith(prefix));
}

/**
 * Cables namespace `ns` to the lab's bridge `br0` (in the switch namespace `sw`): a veth pair
 * whose switch end is `port` and whose namespace end is `eth0` with `address`/24.
 */
export async function cableToSwitch(sw: string, ns: string, port: string, address: string): Promise<void> {
  await run(['ip', '-n', sw, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  await run(['ip', '-n', sw, 'link', 'set', port, 'master', 'br0', 'up']);
  await run(['ip', '-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
  await run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
}
