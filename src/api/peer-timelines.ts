/**
 * Asks peers' APIs for their own view (`GET /v1/timelines`, with the peer token derived from
 * the cluster key): their half of each group's last failover and their own phase of each group.
 * A peer that is down or slow just contributes nothing: status must stay fast and must never
 * fail because of a peer.
 */

export interface PeerEndpoint {
  name: string;
  url: string;
}

export interface PeerAnswer<T, G> {
  node: string;
  timelines: T[];
  /** Null when the peer did not answer, or is an agent too old to send its groups. */
  groups: G[] | null;
}

export async function fetchPeerViews<T, G>(
  peers: PeerEndpoint[],
  token: string,
  timeoutMs = 300,
): Promise<Array<PeerAnswer<T, G>>> {
  return Promise.all(
    peers.map(async (peer): Promise<PeerAnswer<T, G>> => {
      const none = { node: peer.name, timelines: [], groups: null };
      try {
        const res = await fetch(`${peer.url}/v1/timelines`, {
          headers: { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (!res.ok) return none;
        const body = (await res.json()) as { timelines?: unknown; groups?: unknown };
        return {
          node: peer.name,
          timelines: Array.isArray(body.timelines) ? (body.timelines as T[]) : [],
          groups: Array.isArray(body.groups) ? (body.groups as G[]) : null,
        };
      } catch {
        return none;
      }
    }),
  );
}
