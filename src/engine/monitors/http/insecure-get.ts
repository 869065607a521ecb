import { request } from 'node:https';

export interface HttpReply {
  status: number;
  statusText: string;
  /** The body's first bytes (up to the limit), or '' when not read. */
  body: string;
}

/**
 * GET over HTTPS accepting any certificate (self-signed test servers). fetch cannot do this
 * without an undici Agent, which is not a dependency; node:https can. No redirects are
 * followed, like the fetch path.
 */
export function insecureGet(
  url: string,
  signal: AbortSignal,
  readBody: boolean,
  maxBody: number,
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', rejectUnauthorized: false, agent: false, signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () =>
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          body: Buffer.concat(chunks).toString('utf8'),
        });
      if (!readBody) {
        res.destroy();
        done();
        return;
      }
      res.on('data', (chunk: Buffer) => {
        if (size >= maxBody) return;
        chunks.push(chunk.subarray(0, maxBody - size));
        size += chunk.length;
        if (size >= maxBody) {
          res.destroy();
          done();
        }
      });
      res.on('end', done);
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
