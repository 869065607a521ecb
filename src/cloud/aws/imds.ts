import { HaloError } from '../../errors.js';
import { formatDuration } from '../../util/duration.js';

/**
 * The instance's own primary ENI through the instance metadata service, IMDSv2 only
 * (session token first; EC2 User Guide, "Use IMDSv2"): PUT /latest/api/token, then
 * /latest/meta-data/mac and /latest/meta-data/network/interfaces/macs/{mac}/interface-id.
 * The endpoint follows the SDK's AWS_EC2_METADATA_SERVICE_ENDPOINT so tests can fake it.
 */

export const DEFAULT_IMDS_ENDPOINT = 'http://169.254.169.254';
const TOKEN_TTL_SECONDS = '60';

/** The primary ENI of an instance never changes while it runs: ask once per endpoint. */
const cache = new Map<string, string>();

export interface ImdsOptions {
  signal: AbortSignal;
  timeoutMs: number;
  endpoint?: string | undefined;
}

export function imdsEndpoint(explicit?: string): string {
  return (explicit ?? process.env['AWS_EC2_METADATA_SERVICE_ENDPOINT'] ?? DEFAULT_IMDS_ENDPOINT).replace(
    /\/+$/,
    '',
  );
}

export async function instanceEni(opts: ImdsOptions): Promise<string> {
  const base = imdsEndpoint(opts.endpoint);
  const known = cache.get(base);
  if (known) return known;
  // A ref'd timer, unlike AbortSignal.timeout(): the process must not exit mid-lookup.
  const limit = new AbortController();
  const timer = setTimeout(() => limit.abort(new Error('time limit')), opts.timeoutMs);
  const signal = AbortSignal.any([opts.signal, limit.signal]);
  const fail = (why: string, cause?: unknown) =>
    new HaloError(
      'HALO_E_CLOUD_METADATA_UNAVAILABLE',
      `cannot find this instance's ENI through instance metadata at ${base} (${why}); set "eni" for every node, or enable IMDSv2 (hop limit ≥ 2 in containers)`,
      { endpoint: base },
      cause === undefined ? undefined : { cause },
    );
  try {
    const tokenRes = await fetch(`${base}/latest/api/token`, {
      method: 'PUT',
      headers: { 'x-aws-ec2-metadata-token-ttl-seconds': TOKEN_TTL_SECONDS },
      signal,
    });
    if (!tokenRes.ok) throw fail(`token request answered HTTP ${tokenRes.status}`);
    const token = (await tokenRes.text()).trim();
    const get = async (path: string): Promise<string> => {
      const res = await fetch(`${base}/latest/meta-data/${path}`, {
        headers: { 'x-aws-ec2-metadata-token': token },
        signal,
      });
      if (!res.ok) throw fail(`${path} answered HTTP ${res.status}`);
      return (await res.text()).trim();
    };
    const mac = await get('mac');
    const eni = await get(`network/interfaces/macs/${encodeURIComponent(mac)}/interface-id`);
    if (!/^eni-[0-9a-zA-Z]+$/.test(eni)) throw fail(`unexpected interface id "${eni.slice(0, 40)}"`);
    cache.set(base, eni);
    return eni;
  } catch (err) {
    if (err instanceof HaloError) throw err;
    if (opts.signal.aborted) throw fail('cancelled', err);
    if (signal.aborted) throw fail(`no answer within ${formatDuration(opts.timeoutMs)}`, err);
    throw fail((err as Error).message, err);
  } finally {
    clearTimeout(timer);
  }
}

/** For tests: forget cached answers. */
export function clearImdsCache(): void {
  cache.clear();
}
