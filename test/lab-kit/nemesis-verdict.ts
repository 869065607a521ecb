import type { NemesisReport } from './nemesis.js';
import type { Ack, WriteCheck } from './nemesis-writes.js';

/**
 * The nemesis's judgement, as pure functions of what was recorded, so each can be fed planted
 * data in a test: a lost acknowledged write or a moment with two VIP holders must come out
 * as a named problem, and a clean record as none.
 */

/**
 * Compares the shared file (`<seq> <node> <ms>` per line) with what the client saw
 * acknowledged. An acknowledged write absent from the file is lost: the client was told it
 * was stored.
 */
export function checkWrites(
  fileText: string,
  acks: readonly Ack[],
  attempted: number,
  failedBy: Readonly<Record<string, number>>,
): WriteCheck {
  const counts = new Map<number, number>();
  for (const line of fileText.split('\n')) {
    const seq = Number(line.split(' ')[0]);
    if (line && Number.isInteger(seq)) counts.set(seq, (counts.get(seq) ?? 0) + 1);
  }
  const acked = new Set(acks.map((a) => a.seq));
  return {
    attempted,
    acked: acked.size,
    failed: attempted - acks.length,
    failedBy: { ...failedBy },
    lost: [...acked].filter((s) => !counts.has(s)),
    duplicated: [...counts].filter(([, n]) => n > 1).map(([s]) => s),
    storedUnacked: [...counts.keys()].filter((s) => !acked.has(s)).length,
  };
}

/** Every reason a nemesis run failed (empty: it passed). `roundsWanted`: rounds asked for. */
export function nemesisProblems(r: NemesisReport, roundsWanted: number): string[] {
  const problems: string[] = [];
  if (r.splitBrain.length > 0) problems.push(`${r.splitBrain.length} events or samples with two VIP holders`);
  if (r.writes.lost.length > 0) problems.push(`${r.writes.lost.length} acknowledged writes lost`);
  if (r.writes.duplicated.length > 0) problems.push(`${r.writes.duplicated.length} writes stored twice`);
  const stuck = r.rounds.filter((x) => x.convergedMs === null).length;
  if (stuck > 0) problems.push(`${stuck} rounds did not converge`);
  if (r.rounds.length < roundsWanted)
    problems.push(`stopped after ${r.rounds.length} of ${roundsWanted} rounds`);
  return problems;
}
