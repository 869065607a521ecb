import { ownPort } from './node-ports.js';

/**
 * The demo's health check (the group monitor gating the lb-probe, and the process resource's
 * readyCheck): does this node's s3rver answer an S3 request? Exit 0 when it lists buckets.
 * Kept free of heavy imports: it runs every second.
 */

const port = ownPort(process.argv.slice(2), process.env);
const url = `http://127.0.0.1:${port}/`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  const body = await res.text();
  if (res.ok && body.includes('ListAllMyBucketsResult')) {
    console.log(`s3rver answers on ${url}`);
  } else {
    console.log(`s3rver on ${url} answered HTTP ${res.status}`);
    process.exitCode = 1;
  }
} catch (err) {
  const cause = (err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
  console.log(`s3rver on ${url} does not answer (${cause})`);
  process.exitCode = 1;
}
