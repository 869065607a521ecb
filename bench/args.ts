import { parseArgs } from 'node:util';

/** One option of a benchmark: parseArgs's spec plus the line `--help` prints. */
export interface BenchOption {
  type: 'string' | 'boolean';
  default?: string;
  description: string;
  valueName?: string;
}

/**
 * The command line of a benchmark, shared by bench/*.ts: `--help` prints usage and options
 * and exits 0 before anything starts (no lab is built); an unknown option exits 2 with the
 * usage. Values keep parseArgs's types (strings, with their defaults).
 */
export function benchArgs<O extends Record<string, BenchOption>>(
  spec: { command: string; summary: string; options: O },
  argv: string[] = process.argv.slice(2),
): { [K in keyof O]: O[K]['type'] extends 'boolean' ? boolean | undefined : string } {
  const options = Object.fromEntries(
    Object.entries(spec.options).map(([name, o]) => [
      name,
      o.default === undefined ? { type: o.type } : { type: o.type, default: o.default },
    ]),
  );
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (err) {
    process.stderr.write(`${spec.command}: ${(err as Error).message.split('\n')[0]}\n${usage(spec)}`);
    process.exit(2);
  }
  if (values['help']) {
    process.stdout.write(usage(spec));
    process.exit(0);
  }
  return values as never;
}

function usage(spec: { command: string; summary: string; options: Record<string, BenchOption> }): string {
  const lines = [`usage: ${spec.command} [options]`, '', spec.summary, '', 'Options:'];
  for (const [name, o] of Object.entries(spec.options)) {
    const flag = `--${name}${o.type === 'string' ? ` ${o.valueName ?? 'VALUE'}` : ''}`;
    const dflt = o.default === undefined ? '' : ` (default ${o.default})`;
    lines.push(`  ${flag.padEnd(26)} ${o.description}${dflt}`);
  }
  lines.push(`  ${'-h, --help'.padEnd(26)} Show this help.`);
  return `${lines.join('\n')}\n`;
}

/**
 * The whole number given as `--NAME VALUE`, at least MIN; anything else exits 2 with a line
 * that names the benchmark, the option, what it expects and what it got.
 */
export function intArg(command: string, name: string, value: string, min = 1): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min) {
    process.stderr.write(
      `${command}: --${name} expects ${min === 1 ? 'a positive integer' : `an integer ≥ ${min}`}, got "${value}"\n`,
    );
    process.exit(2);
  }
  return n;
}
