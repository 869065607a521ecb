import type { Etcd3 } from 'etcd3';

/**
 * One lease keepalive sent through every member client at once; resolves with the first
 * answer (any member forwards a keepalive to the leader, so every answer comes from the
 * leader's lease table), rejects only when every member failed. A TTL of 0 in the answer
 * means etcd no longer has the lease: that is an answer too, for the caller to act on.
 */
export function keepaliveAnyMember(
  members: readonly Etcd3[],
  leaseId: string,
  deadlineMs: number,
): Promise<{ TTL: string }> {
  return Promise.any(members.map((m) => keepaliveVia(m, leaseId, deadlineMs))).catch((err: unknown) => {
    const first = err instanceof AggregateError ? err.errors[0] : err;
    throw first instanceof Error ? first : new Error(String(first));
  });
}

async function keepaliveVia(member: Etcd3, leaseId: string, deadlineMs: number): Promise<{ TTL: string }> {
  const stream = await member.leaseClient.leaseKeepAlive({ deadline: deadlineMs });
  return new Promise<{ TTL: string }>((resolve, reject) => {
    stream.on('data', (res: { TTL: string }) => {
      stream.end();
      resolve(res);
    });
    stream.on('error', (err: Error) => reject(err));
    stream.write({ ID: leaseId });
  });
}
