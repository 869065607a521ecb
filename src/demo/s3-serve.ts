import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { optionValue, ownPort } from './node-ports.js';

/** The part of s3rver's API we use (the package ships no types). */
interface S3rverOptions {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  configureBuckets: Array<{ name: string }>;
  allowMismatchedSignatures: boolean;
}
type S3rverCtor = new (options: S3rverOptions) => { run(): Promise<unknown> };
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor;

/**
 * The demo's protected service: s3rver (an S3-compatible server) serving a data directory
 * that every node shares, like MinIO on an FSx share in a CLUSTERPRO deployment on AWS
 * (docs/cloud-aws.md). Run by the
 * `process` resource as `node s3-serve.js --directory DIR --ports n1=P1,n2=P2 --bucket NAME`.
 * Only the group's owner runs it, so the shared directory has one writer at a time.
 */

const argv = process.argv.slice(2);
const port = ownPort(argv, process.env);
const directory = optionValue(argv, '--directory');
const bucket = optionValue(argv, '--bucket');
mkdirSync(directory, { recursive: true });

const server = new S3rver({
  address: '127.0.0.1',
  port,
  directory,
  silent: true,
  configureBuckets: [{ name: bucket }],
  // Clients sign for the load balancer's address; a TCP proxy keeps Host intact, but s3rver's
  // SigV4 support is partial, so a mismatch must not turn into a confusing 403 in a demo.
  allowMismatchedSignatures: true,
});
await server.run();
console.log(`s3rver of ${process.env['HALO_NODE']} serving ${directory} on http://127.0.0.1:${port}`);

const stop = (signal: string) => {
  console.log(`s3rver of ${process.env['HALO_NODE']} stopping (${signal})`);
  process.exit(0);
};
process.once('SIGTERM', () => stop('SIGTERM'));
process.once('SIGINT', () => stop('SIGINT'));
