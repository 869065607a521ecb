import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';

/**
 * The built web UI held in memory: a few hundred kilobytes, read once at start. Serving only
 * from this map (never joining a request path onto the disk) rules out path traversal, and
 * the ETag lets browsers revalidate index.html cheaply.
 */

export interface StaticFile {
  body: Buffer;
  contentType: string;
  etag: string;
  /** Vite puts a content hash in every file name under assets/: those may be cached for good. */
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** Every file under `dir`, keyed by its path relative to `dir` with `/` separators. */
export function loadStaticFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) {
        walk(full);
        continue;
      }
      if (!entry.isFile() || statSync(full).size > 10 * 1024 * 1024) continue;
      const body = readFileSync(full);
      const key = relative(dir, full).split(sep).join('/');
      files.set(key, {
        body,
        contentType: TYPES[extname(entry.name).toLowerCase()] ?? 'application/octet-stream',
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
        immutable: key.startsWith('assets/'),
      });
    }
  };
  walk(dir);
  return files;
}
