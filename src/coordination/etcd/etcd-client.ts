import { readFileSync } from 'node:fs';
import { handleWhen, noop, retry } from 'cockatiel';
import { Etcd3, type IOptions, isRecoverableError } from 'etcd3';
import type { Coordination, KeepaliveConfig } from '../../config/model.js';
import { HaloError } from '../../errors.js';
import { etcdGrpcKeepaliveOptions } from '../../net/keepalive.js';
import { privateFileProblem } from '../../util/private-file.js';

export type EtcdCoordination = Extract<Coordination, { type: 'etcd' }>;

/**
 * Builds the etcd3 client from `cluster.coordination`. Every call Halo makes carries its own
 * deadline, so no call can outlive the lease it serves. A call that fails on one member is
 * retried on another (the library's retry), but the library's per-member circuit breaker is
 * off: after a leader election it kept refusing every call to members that were healthy
 * again for up to 5 s ("circuit breaker is open"), so an agent that had lost its lease during
 * the election could not take a new one, and a group stayed down for seconds after etcd was
 * back. Halo paces its own retries instead.
 */
export function createEtcdClient(
  c: EtcdCoordination,
  dialTimeoutMs: number,
  keepalive: KeepaliveConfig,
): Etcd3 {
  const options: IOptions = {
    hosts: c.endpoints,
    dialTimeout: dialTimeoutMs,
    // Stateful middleboxes (NAT, firewalls) drop idle flows: gRPC pings below the configured idle.
    grpcOptions: etcdGrpcKeepaliveOptions(keepalive),
    faultHandling: {
      host: () => noop,
      global: retry(handleWhen(isRecoverableError), { maxAttempts: Math.max(1, c.endpoints.length - 1) }),
    },
  };
  if (c.tls) {
    const read = (path: string | undefined, what: string) => {
      if (path === undefined) return undefined;
      try {
        return readFileSync(path);
      } catch (err) {
        throw new HaloError(
          'HALO_E_CONFIG_READ',
          `cannot read the etcd ${what} ${path}: ${(err as Error).message}`,
        );
      }
    };
    const ca = read(c.tls.ca, 'CA certificate');
    if (!ca)
      throw new HaloError(
        'HALO_E_CONFIG_INVALID',
        'cluster.coordination.tls.ca is required when tls is set (the CA that signed the etcd servers)',
      );
    const cert = read(c.tls.cert, 'client certificate');
    const key = c.tls.key ? readSecret(c.tls.key, 'etcd client key') : undefined;
    options.credentials = {
      rootCertificate: ca,
      ...(cert ? { certChain: cert } : {}),
      ...(key ? { privateKey: Buffer.from(key) } : {}),
    };
  }
  if (c.username !== undefined) {
    if (c.passwordFile === undefined)
      throw new HaloError(
        'HALO_E_CONFIG_INVALID',
        'cluster.coordination.username needs passwordFile (a file readable only by the agent)',
      );
    options.auth = { username: c.username, password: readSecret(c.passwordFile, 'etcd password') };
  }
  return new Etcd3(options);
}

function readSecret(path: string, what: string): string {
  const problem = privateFileProblem(path, what);
  if (problem) throw new HaloError('HALO_E_SECRET', `refusing to start: ${problem}`, { file: path });
  return readFileSync(path, 'utf8').trim();
}
