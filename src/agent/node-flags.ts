/**
 * The V8 options the agent and the witness run with. The packaged units pass them in
 * NODE_OPTIONS (packaging/halo-agent.service, halo-witness.service: a test keeps them equal)
 * and the lab starts its agents and witness with them, so the tests and benchmarks measure
 * what ships. Commands a resource runs do not inherit NODE_OPTIONS (util/command-env.ts).
 *
 * - a 1 MB semi-space: the young generation otherwise grows to 2 × 16 MB per thread (main and
 *   coordination worker) for garbage that lives microseconds;
 * - an old generation capped at 256 MB: V8 otherwise lets a small heap grow to several times
 *   its live size before it collects. The agent's live heap is ~35 MB with 1,000 groups
 *   (docs/benchmarks.md), so the cap leaves it room to grow sevenfold. An agent that does
 *   reach it (seen once, collapsing under `fast` timing with 1,000 groups) exits; its deadman
 *   helper fences its groups at their deadlines and systemd restarts it.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--max-old-space-size=256'];

/**
 * V8 options node does not take from NODE_OPTIONS: the units put them on node's command line
 * (ExecStart=/usr/bin/node … /usr/bin/halo …; a test keeps them equal), the lab too.
 *
 * - --optimize-for-size: V8 keeps smaller code and heaps at some cost in speed. With 1,000
 *   groups the owner's RSS went from 127 to 117–119 MB in two `default` runs (its peaks still
 *   vary from run to run) and from 141–146 to 122–126 MB under `fast`, the witness's from 90
 *   to 72 MB; the owner's CPU under `fast` stayed at ~11 % of a core, with no lease lost
 *   (docs/benchmarks.md).
 */
export const DAEMON_V8_FLAGS: readonly string[] = ['--optimize-for-size'];

/**
 * Environment of the agent and the witness beyond NODE_OPTIONS (the units set it too, the
 * lab passes it on). MALLOC_ARENA_MAX=2: glibc otherwise gives each thread that calls malloc
 * an arena of its own (up to 8 per core), and the agent's threads (main, coordination worker,
 * V8's and libuv's helpers) each kept freed memory in theirs: 11 MB of the idle agent's RSS
 * (98 → 87 MB, docs/benchmarks.md).
 */
export const DAEMON_ENV: Readonly<Record<string, string>> = Object.freeze({ MALLOC_ARENA_MAX: '2' });
