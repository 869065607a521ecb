import { createHash, createHmac } from 'node:crypto';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * The S3 client of the aws-minio scenario, run inside the lab's client namespace (JSON lines on
 * stdin/stdout, the protocol of lab-kit/lab-client.ts). Requests are signed with the AWS SDK's
 * own SigV4 signer (@smithy/signature-v4, what @aws-sdk/client-s3 uses; that client is not in
 * node_modules) for s3rver's key pair, and sent to the VIP on a fresh connection each time, so a
 * moved VIP is seen at once. Ops:
 * - `s3 {method, path, body?}` → {status, servedBy, body};
 * - `poll-start {path, intervalMs, timeoutMs}`, `poll-records {since}`, `poll-stop`: a signed
 *   GET every interval; records [monotonic ms at its end, node that served it or ''].
 */

const [host = '172.16.0.1', portText = '9000'] = process.argv.slice(2);
const port = Number(portText);
const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6;

type Data = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: Data): string | Buffer =>
  typeof d === 'string'
    ? d
    : ArrayBuffer.isView(d)
      ? Buffer.from(d.buffer, d.byteOffset, d.byteLength)
      : Buffer.from(d);

/** The hash the signer asks for, from node:crypto (the SDK's own hash package is not installed). */
class Sha256 {
  private readonly hash;
  constructor(secret?: Data) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: Data): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

const signer = new SignatureV4({
  service: 's3',
  region: 'us-east-1',
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  sha256: Sha256,
  // S3 signs the path as sent, without the second encoding other services use.
  uriEscapePath: false,
});

interface Answer {
  status: number;
  servedBy: string;
  body: string;
}

async function s3(method: string, path: string, body = '', timeoutMs = 3000): Promise<Answer> {
  const payload = Buffer.from(body);
  const signed = await signer.sign({
    method,
    protocol: 'http:',
    hostname: host,
    port,
    path,
    query: {},
    headers: {
      host: `${host}:${port}`,
      'x-amz-content-sha256': createHash('sha256').update(payload).digest('hex'),
      'content-length': String(payload.length),
    },
    body: payload,
  });
  return new Promise((resolve, reject) => {
    const req = request(
      { host, port, method, path, headers: signed.headers, agent: false, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            servedBy: String(res.headers['x-served-by'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

type Record = [number, string];
let records: Record[] = [];
let timer: NodeJS.Timeout | null = null;

function pollStart(path: string, intervalMs: number, timeoutMs: number): void {
  if (timer) clearInterval(timer);
  records = [];
  timer = setInterval(() => {
    s3('GET', path, '', timeoutMs).then(
      (a) => records.push([monoMs(), a.status === 200 ? a.servedBy : '']),
      () => records.push([monoMs(), '']),
    );
  }, intervalMs);
}

const rl = createInterface({ input: process.stdin });
const reply = (msg: unknown) => process.stdout.write(`${JSON.stringify(msg)}\n`);
rl.on('line', (line) => {
  let msg: { id: number; op: string; [k: string]: unknown };
  try {
    msg = JSON.parse(line);
  } catch {
    return;
  }
  const handle = async (): Promise<unknown> => {
    switch (msg.op) {
      case 's3':
        return s3(String(msg['method']), String(msg['path']), String(msg['body'] ?? ''));
      case 'poll-start':
        pollStart(String(msg['path']), Number(msg['intervalMs'] ?? 20), Number(msg['timeoutMs'] ?? 250));
        return null;
      case 'poll-records': {
        const since = Number(msg['since'] ?? 0);
        return records.filter((r) => r[0] >= since);
      }
      case 'poll-stop':
        if (timer) clearInterval(timer);
        timer = null;
        return records;
      default:
        throw new Error(`unknown op ${msg.op}`);
    }
  };
  handle().then(
    (result) => reply({ id: msg.id, ok: true, result }),
    (err: Error) => reply({ id: msg.id, ok: false, error: err.message }),
  );
});
rl.on('close', () => process.exit(0));
reply({ id: 0, ok: true, result: 'ready' });
