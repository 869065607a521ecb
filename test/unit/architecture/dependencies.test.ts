import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The layering of src/ (.dependency-cruiser.cjs explains it): no module imports a layer above
 * its own, and no import cycles. Runs dependency-cruiser on the TypeScript sources.
 */

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const depcruise = `${repoRoot}node_modules/dependency-cruiser/bin/dependency-cruise.mjs`;

interface Dependency {
  resolved: string;
  couldNotResolve: boolean;
  dependencyTypes: string[];
}
interface Cruise {
  modules: Array<{ source: string; dependencies: Dependency[] }>;
  summary: {
    violations: Array<{ from: string; to: string; rule: { name: string }; cycle?: Array<{ name: string }> }>;
  };
}

async function cruiseSrc(): Promise<Cruise> {
  // Exit code 0 even with violations: the JSON lists them and the assertions below judge.
  const { stdout } = await run(
    process.execPath,
    [depcruise, 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'],
    { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as Cruise;
}

test('no module in src/ imports a layer above its own or takes part in an import cycle', async () => {
  const result = await cruiseSrc();
  const lines = result.summary.violations.map((v) =>
    v.cycle
      ? `${v.rule.name}: ${v.from} → ${v.cycle.map((c) => c.name).join(' → ')}`
      : `${v.rule.name}: ${v.from} → ${v.to}`,
  );
  assert.deepEqual(lines, [], `layering violations:\n${lines.join('\n')}`);

  // The check sees real edges: every relative import resolved to a source file (a resolver
  // that silently failed would find no violations at all), type-only imports included.
  const unresolved = result.modules.flatMap((m) =>
    m.dependencies
      .filter((d) => d.couldNotResolve && d.resolved.startsWith('.'))
      .map((d) => `${m.source} → ${d.resolved}`),
  );
  assert.deepEqual(unresolved, [], 'imports dependency-cruiser could not resolve');
  const config = result.modules.find((m) => m.source === 'src/config/load.ts');
  assert.ok(
    config?.dependencies.some(
      (d) => d.resolved === 'src/config/catalog.ts' && d.dependencyTypes.includes('type-only'),
    ),
    'src/config/load.ts → catalog.ts (type-only) should be among the cruised edges',
  );
});
