/**
 * The safety check shared by the simulator and the etcd tests: ownership windows of different
 * nodes must never overlap. A window is half-open, [start, end): one node may start exactly
 * when the other's window ends. Empty windows (end <= start) never held anything.
 */

export interface OwnershipWindow {
  node: string;
  /** Shown in the report only (a number in the simulator, a decimal string from etcd). */
  term: number | string;
  start: number;
  end: number;
}

/** One line per pair of windows of different nodes that overlap; [] when safe. */
export function findOverlaps(windows: readonly OwnershipWindow[]): string[] {
  const sorted = [...windows].sort((a, b) => a.start - b.start);
  const found: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i] as OwnershipWindow;
    for (let j = i + 1; j < sorted.length; j++) {
      const b = sorted[j] as OwnershipWindow;
      // Sorted by start: every later window starts even later.
      if (b.start >= a.end) break;
      if (b.node !== a.node && b.end > b.start && a.end > a.start) {
        found.push(
          `two owners: ${a.node} (term ${a.term}) [${fmt(a.start)}, ${fmt(a.end)}) overlaps ` +
            `${b.node} (term ${b.term}) [${fmt(b.start)}, ${fmt(b.end)}) by ${fmt(Math.min(a.end, b.end) - b.start)}ms`,
        );
      }
    }
  }
  return found;
}

function fmt(ms: number): string {
  return Number.isFinite(ms) ? ms.toFixed(3) : String(ms);
}
