import { readFileSync } from 'node:fs';

/**
 * Halo's version, read from its package.json at run time so the built tree, `npm install -g`
 * and the Debian package (/usr/lib/halo) all report the version they were built from.
 * dist/src/util/ sits three levels below package.json; a bare outDir (src/util/) two.
 */
export const VERSION: string = readVersion();

function readVersion(): string {
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === 'halo' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // Try the next candidate.
    }
  }
  return '0.0.0';
}
