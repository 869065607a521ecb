import { readdirSync, readFileSync } from 'node:fs';

/**
 * Samples, every `everyMs`, which nodes of a loopback cluster run a program: every live
 * process whose command line contains `needle`, attributed to the node named by HALO_NODE in
 * its environment (every program a resource starts carries it, and so do the copies a test
 * starts "outside Halo" for a node). All nodes share one kernel, so one scan sees them all.
 */

export interface CopySample {
  /** Wall-clock ms when the scan began (comparable with event timestamps of the same machine). */
  at: number;
  /** PIDs per node. */
  byNode: Record<string, number[]>;
}

export interface CopySampler {
  readonly samples: readonly CopySample[];
  stop(): CopySample[];
}

export function sampleCopies(needle: string, everyMs = 12): CopySampler {
  const samples: CopySample[] = [];
  const scan = () => {
    const at = Date.now();
    const byNode: Record<string, number[]> = {};
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        if (!readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(needle)) continue;
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        if (/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2))) continue;
        const env = readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
        const node = env.find((e) => e.startsWith('HALO_NODE='))?.slice('HALO_NODE='.length) ?? '?';
        byNode[node] = [...(byNode[node] ?? []), Number(name)];
      } catch {
        // Exited while we looked.
      }
    }
    samples.push({ at, byNode });
  };
  scan();
  const timer = setInterval(scan, everyMs);
  return {
    samples,
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

/** Nodes that run at least one copy in `sample`. */
export function activeNodes(sample: CopySample): string[] {
  return Object.entries(sample.byNode)
    .filter(([, pids]) => pids.length > 0)
    .map(([node]) => node)
    .sort();
}
