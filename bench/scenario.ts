import { parseArgs } from 'node:util';
import { SCENARIOS } from '../test/scenarios/index.js';

/**
 * `npm run scenario -- NAME`: replays a field report in the namespace lab (needs root and the
 * lab's tools, as the lab tests). Prints each step with what was checked and measured; exit 0
 * when every check passed, 1 when one failed, 2 for a usage error.
 */

function usage(): string {
  const names = Object.entries(SCENARIOS)
    .map(([name, s]) => `  ${name.padEnd(14)} ${s.title}`)
    .join('\n');
  return `usage: npm run scenario -- NAME\n\nReplays a field report end to end in the namespace lab.\n\nScenarios:\n${names || '  (none yet)'}\n`;
}

async function main(): Promise<number> {
  let positionals: string[];
  try {
    const parsed = parseArgs({ allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
    if (parsed.values.help) {
      process.stdout.write(usage());
      return 0;
    }
    positionals = parsed.positionals;
  } catch (err) {
    process.stderr.write(`npm run scenario: ${(err as Error).message.split('\n')[0]}\n${usage()}`);
    return 2;
  }
  const name = positionals[0];
  const entry = name ? SCENARIOS[name] : undefined;
  if (!name || !entry || positionals.length > 1) {
    process.stderr.write(`${name && !entry ? `npm run scenario: no scenario "${name}"\n` : ''}${usage()}`);
    return 2;
  }
  const scenario = await entry.load();
  const started = Date.now();
  try {
    await scenario.run((line) => process.stdout.write(`${line}\n`));
  } catch (err) {
    process.stdout.write(`\nFAILED: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
  process.stdout.write(
    `\n${scenario.name}: every check passed (${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
  );
  return 0;
}

process.exitCode = await main();
