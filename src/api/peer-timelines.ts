/**
 * Asks peers' APIs for their half of each group's last failover (`GET /v1/timelines`), with
 * the peer token derived from the cluster key. A peer that is down or slow just contributes
 * nothing: status must stay fast and must never fail because of a peer.
 */

export interface PeerEndpoint {
  name: string;
  url: string;
}

export async function fetchPeerTimelines<T>(
  peers: PeerEndpoint[],
  token: string,
  timeoutMs = 300,
): Promise<T[]> {
  const answers = await Promise.all(
    peers.map(async (peer) => {
      try {
        const res = await fetch(`${peer.url}/v1/timelines`, {
          headers: { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (!res.ok) return [];
        const body = (await res.json()) as { timelines?: unknown };
        return Array.isArray(body.timelines) ? (body.timelines as T[]) : [];
      } catch {
        return [];
      }
    }),
  );
  return answers.flat();
}
