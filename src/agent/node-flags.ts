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
