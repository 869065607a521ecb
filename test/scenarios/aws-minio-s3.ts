import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

/**
 * The MinIO stand-in of the aws-minio scenario: s3rver (an S3-compatible server already in the
 * dependencies, used by `halo demo`) keeping buckets and objects as plain files in the shared
 * directory, so what one node wrote is there when the other takes over, as with MinIO on an
 * FSx share. SigV4 signatures are checked (s3rver's built-in S3RVER/S3RVER key pair).
 * Every answer carries `x-served-by: NODE` so the client can tell which node served it.
 *
 *   node aws-minio-s3.js --node NAME --dir SHARE --port 9000 --pidfile FILE
 */

interface Koa {
  middleware: Array<(ctx: { set(k: string, v: string): void }, next: () => Promise<void>) => Promise<void>>;
  run(): Promise<unknown>;
}
type S3rverCtor = new (options: Record<string, unknown>) => Koa;
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor;

const { values } = parseArgs({
  options: {
    node: { type: 'string' },
    dir: { type: 'string' },
    port: { type: 'string', default: '9000' },
    pidfile: { type: 'string' },
  },
});
const node = values.node ?? 'unknown';
const dir = values.dir;
if (!dir || !values.pidfile) {
  process.stderr.write('usage: aws-minio-s3.js --node NAME --dir SHARE [--port 9000] --pidfile FILE\n');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const server = new S3rver({
  address: '0.0.0.0',
  port: Number(values.port),
  directory: dir,
  silent: true,
  resetOnClose: false,
  allowMismatchedSignatures: false,
});
// First in the chain, so even s3rver's own answers carry it (Koa drops it from error answers).
server.middleware.unshift(async (ctx, next) => {
  ctx.set('x-served-by', node);
  await next();
});
await server.run();
writeFileSync(values.pidfile, `${process.pid}\n`);
process.stdout.write(`s3 stand-in of ${node} serving ${dir} on :${values.port}\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(0));
