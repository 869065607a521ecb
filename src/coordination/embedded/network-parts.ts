import type { HaloConfig } from '../../config/model.js';
import type { Logger } from '../../log.js';
import type { TimerClock } from '../../util/clock.js';
import { UdpTransport } from '../transport/udp-transport.js';
import type { NodeStatus } from '../types.js';
import { PeerStatus } from './peer-status.js';
import { linksByName, type VoterInfo } from './voters.js';

/**
 * The embedded backend's network parts for one node, built from the config: the heartbeat
 * bookkeeping (who is up, quorum) and the authenticated UDP transport to every other voter.
 */
export function networkParts(o: {
  config: HaloConfig;
  self: VoterInfo;
  voters: VoterInfo[];
  key: Buffer;
  clock: TimerClock;
  log: Logger;
  status: NodeStatus;
}): { peers: PeerStatus; transport: UdpTransport } {
  const { config, self, voters, clock } = o;
  const peers = new PeerStatus({
    self: self.name,
    voters,
    heartbeatMs: config.cluster.timing.heartbeatMs,
    epoch: config.epoch,
    clock,
    status: o.status,
  });
  const transport = new UdpTransport({
    cluster: config.cluster.name,
    epoch: config.epoch,
    self: self.name,
    key: o.key,
    listen: self.links,
    peers: linksByName(voters, self.name),
    clock,
    log: o.log,
  });
  return { peers, transport };
}
