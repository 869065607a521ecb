/** Nearest-rank percentiles and the markdown table the benchmarks print. */

export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? null;
}

export function summarize(values: ReadonlyArray<number | null>) {
  const ok = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  return {
    n: values.length,
    missing: values.length - ok.length,
    p50: percentile(ok, 50),
    p95: percentile(ok, 95),
    max: ok.at(-1) ?? null,
  };
}

export const fmtMs = (v: number | null): string => (v === null ? '–' : `${Math.round(v)} ms`);

export function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
