import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ARTIFACTS } from './artifacts.js';

/** `npm run schema`: rewrite the generated, committed files (run from the built dist/). */
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
for (const [file, render] of Object.entries(ARTIFACTS)) {
  writeFileSync(repoRoot + file, render());
  console.log(`wrote ${file}`);
}
