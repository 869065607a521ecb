/**
 * A field report replayed end to end in the namespace lab (`npm run scenario -- NAME`, and a
 * test in test/lab/ that runs the same code). `run` prints each step of the report with what it
 * checked and measured through `log`, throws on the first check that fails, and leaves nothing
 * behind (namespaces, processes, temp dirs) whatever happens.
 */
export interface Scenario {
  name: string;
  /** The report it replays, one line (shown by `npm run scenario -- --help`). */
  title: string;
  run(log: (line: string) => void): Promise<void>;
}
