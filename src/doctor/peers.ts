import { randomInt } from 'node:crypto';
import { createSocket, type RemoteInfo } from 'node:dgram';
import type { HaloConfig, NodeConfig } from '../config/model.js';
import { votersOf, WITNESS } from '../coordination/embedded/voters.js';
import { decodeFrame, encodeFrame, newBootId } from '../coordination/transport/codec.js';
import { monotonicClock } from '../util/clock.js';
import type { AgentStatusDoc } from './ports.js';
import type { CheckResult } from './types.js';

/**
 * Can this node talk to its peers and the witness over the peer port (UDP)?
 *
 * Agents answer only authenticated frames, and always to the *configured* address of the
 * sender, not to the datagram's source. So when the local agent is not running, doctor binds
 * this node's own peer port, sends each voter an authenticated intent write with nothing in
 * it (a no-op that every voter acknowledges with `intent-ack`), and waits: an ack proves the
 * path both ways, the key and the config epoch. Frames that fail authentication from a
 * voter's address tell a different key or config apart from silence. When the agent runs
 * (the port is taken), its own membership view from the API is the better answer.
 */

export type PeerVerdict =
  | { kind: 'answered' }
  | { kind: 'heard' /** frames arrived but no ack to our probe */ }
  | { kind: 'bad-key' }
  | { kind: 'wrong-epoch' }
  | { kind: 'silent' };

export interface ProbeTarget {
  name: string;
  host: string;
  port: number;
}

export function probeTargets(config: HaloConfig, self: NodeConfig): ProbeTarget[] {
  return votersOf(config)
    .filter((v) => v.name !== self.name)
    .flatMap((v) => v.links.slice(0, 1).map((l) => ({ name: v.name, host: l.host, port: l.port })));
}

/** Sends one probe to every target from this node's peer port and collects verdicts. */
export async function probePeers(
  config: HaloConfig,
  self: NodeConfig,
  key: Buffer,
  targets: ProbeTarget[],
  waitMs: number,
): Promise<Map<string, PeerVerdict>> {
  const socket = createSocket(self.address.includes(':') ? 'udp6' : 'udp4');
  const verdicts = new Map<string, PeerVerdict>(targets.map((t) => [t.name, { kind: 'silent' }]));
  const id = randomInt(1, 2 ** 47);
  const byAddress = new Map(targets.map((t) => [`${t.host}:${t.port}`, t.name]));
  const names = new Set(targets.map((t) => t.name));
  const raise = (name: string, v: PeerVerdict) => {
    const rank = { silent: 0, 'wrong-epoch': 1, 'bad-key': 1, heard: 2, answered: 3 } as const;
    if (rank[v.kind] >= rank[verdicts.get(name)?.kind ?? 'silent']) verdicts.set(name, v);
  };
  socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    const res = decodeFrame(msg, {
      keyFor: (c) => (c === config.cluster.name ? key : undefined),
      epochFor: () => config.epoch,
    });
    if (res.ok) {
      const from = res.frame.header.from;
      if (!names.has(from)) return;
      const acked = res.frame.payloads.some(
        (p) =>
          (p as { k?: unknown; id?: unknown } | null)?.k === 'intent-ack' &&
          (p as { id?: unknown }).id === id,
      );
      raise(from, acked ? { kind: 'answered' } : { kind: 'heard' });
      return;
    }
    const name = byAddress.get(`${rinfo.address}:${rinfo.port}`);
    if (name && res.reason === 'bad-mac') raise(name, { kind: 'bad-key' });
    if (name && res.reason === 'wrong-epoch') raise(name, { kind: 'wrong-epoch' });
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: self.address, port: self.peerPort, exclusive: true }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', () => undefined);
  try {
    const bootId = newBootId();
    let seq = 0;
    const send = () => {
      for (const t of targets) {
        const frame = encodeFrame(
          {
            cluster: config.cluster.name,
            epoch: config.epoch,
            from: self.name,
            bootId,
            seq: ++seq,
            sentAt: monotonicClock.now(),
          },
          [{ k: 'intent', entries: {}, id }],
          key,
        );
        socket.send(frame, t.port, t.host);
      }
    };
    // UDP may lose one datagram: ask three times within the wait.
    const deadline = Date.now() + waitMs;
    for (let i = 0; i < 3 && Date.now() < deadline; i++) {
      send();
      await new Promise((r) => setTimeout(r, Math.min(waitMs / 3, Math.max(0, deadline - Date.now()))));
      if ([...verdicts.values()].every((v) => v.kind === 'answered')) break;
    }
  } finally {
    await new Promise<void>((r) => socket.close(() => r()));
  }
  return verdicts;
}

export function peerResult(target: ProbeTarget, verdict: PeerVerdict): CheckResult {
  const what = target.name === WITNESS ? 'witness' : `node ${target.name}`;
  const base = { id: `peer:${target.name}`, title: `Peer ${what} (${target.host}:${target.port}/udp)` };
  const firewall = `allow UDP ${target.port} from this node to ${target.host} and UDP back to this node's peer port (security group / NSG / firewall)`;
  switch (verdict.kind) {
    case 'answered':
      return {
        ...base,
        status: 'pass',
        message: 'answered an authenticated probe (path both ways, same key and config)',
      };
    case 'heard':
      return {
        ...base,
        status: 'warn',
        message:
          'its frames reach this node, but it did not answer the probe: traffic from here to it may be blocked',
        fix: [firewall],
      };
    case 'bad-key':
      return {
        ...base,
        status: 'fail',
        message: 'its frames fail authentication: it uses a different cluster key',
        fix: ['copy the same cluster.secretFile to every node and the witness, then restart them'],
      };
    case 'wrong-epoch':
      return {
        ...base,
        status: 'fail',
        message: 'it runs a different version of the config file (config epoch differs)',
        fix: ['distribute the same config to every node: halo config push FILE, or copy it and restart'],
      };
    default:
      return {
        ...base,
        status: 'warn',
        message: 'no answer: it is not running, or a firewall drops UDP on the way',
        fix: [
          `start it (halo ${target.name === WITNESS ? 'witness' : 'agent'} …) and run doctor again`,
          firewall,
        ],
      };
  }
}

/** The running agent's own view of its peers (used when the peer port is taken by it). */
export function peerResultsFromStatus(targets: ProbeTarget[], status: AgentStatusDoc): CheckResult[] {
  return targets.map((t) => {
    const up = t.name === WITNESS ? status.witness?.up : status.nodes.find((n) => n.name === t.name)?.up;
    const verdict: PeerVerdict = up ? { kind: 'answered' } : { kind: 'silent' };
    const r = peerResult(t, verdict);
    return up ? { ...r, message: "up in the local agent's membership view" } : r;
  });
}
