import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { HaloError } from '../../errors.js';
import { type Logger, silentLogger } from '../../log.js';
import { type Clock, monotonicClock } from '../../util/clock.js';
import {
  type DecodeOptions,
  type DropReason,
  decodeFrame,
  encodeFrame,
  frameOverheadBytes,
  newBootId,
} from './codec.js';
import { ReplayGuard } from './replay-guard.js';

/**
 * Batched, authenticated datagrams between agents and the witness. Payloads are opaque JSON values; `send` queues them and `flush` (once per
 * tick) sends one frame per peer, so a tick costs one datagram per peer and link.
 *
 * A peer with several links (e.g. a dedicated cluster network) gets every frame on every
 * link; the receiver's replay guard delivers the first copy and drops the rest as 'replay'.
 */

export interface Link {
  host: string;
  port: number;
}

export interface UdpTransportOptions {
  cluster: string;
  /** Config epoch: put in every frame, and frames of another epoch are dropped. */
  epoch: number;
  /** This node's (or the witness's) name; the `from` of every frame. */
  self: string;
  /** The cluster key. Either this or `keys` (with an entry for `cluster`) is required. */
  key?: Buffer;
  /**
   * Keys of every cluster this transport serves (a witness may serve several). Frames of a
   * cluster not listed are dropped as 'wrong-cluster'.
   */
  keys?: Record<string, Buffer>;
  /** Expected epochs of the clusters in `keys` besides `cluster`; unlisted ones are not checked. */
  epochs?: Record<string, number>;
  bootId?: string;
  /** One socket per local link. */
  listen: Link[];
  /** Peers of `cluster` by name, each with one or more links. */
  peers: Record<string, Link[]>;
  /** Peers of the other clusters in `keys`, for replies (`send(to, payload, cluster)`). */
  clusterPeers?: Record<string, Record<string, Link[]>>;
  /**
   * Which authenticated senders are delivered. Default: members of `peers` (or of
   * `clusterPeers[cluster]`), or anyone for a cluster whose peers are not listed.
   */
  accept?: (from: string, cluster: string) => boolean;
  /** Frames larger than this are split. Default 60 000 bytes (below the 64 KiB UDP limit). */
  maxFrameBytes?: number;
  clock?: Clock;
  log?: Logger;
}

export interface MessageMeta {
  cluster: string;
  epoch: number;
  /** Sender's monotonic ms when it built the frame. */
  sentAt: number;
  bootId: string;
  seq: number;
  /** Index into `listen` of the socket that received the frame. */
  link: number;
  address: Link;
}

export type MessageListener = (from: string, payloads: unknown[], meta: MessageMeta) => void;

export interface TransportStats {
  /** Datagrams handed to the kernel. */
  sent: number;
  /** Frames accepted and delivered. */
  received: number;
  dropped: Record<DropReason, number>;
  sendErrors: number;
  /** Payloads dropped at send: too large for one frame, or not serialisable. */
  oversize: number;
}

type State = 'idle' | 'starting' | 'running' | 'stopped';

export class UdpTransport {
  private readonly opts: UdpTransportOptions;
  private readonly bootId: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly replay = new ReplayGuard();
  private readonly sockets: dgram.Socket[] = [];
  private readonly listeners: MessageListener[] = [];
  /** cluster → peer → queued payloads */
  private readonly queue = new Map<string, Map<string, unknown[]>>();
  /** Epoch last heard per cluster, used when sending to a cluster whose epoch we do not know. */
  private readonly heardEpoch = new Map<string, number>();
  private epoch: number;
  private peers: Record<string, Link[]>;
  private seq = 0;
  private state: State = 'idle';
  private readonly counters: TransportStats = {
    sent: 0,
    received: 0,
    dropped: {
      'bad-mac': 0,
      'wrong-cluster': 0,
      'wrong-epoch': 0,
      replay: 0,
      malformed: 0,
      'unknown-sender': 0,
    },
    sendErrors: 0,
    oversize: 0,
  };

  constructor(opts: UdpTransportOptions) {
    this.opts = opts;
    this.bootId = opts.bootId ?? newBootId();
    this.clock = opts.clock ?? monotonicClock;
    this.log = opts.log ?? silentLogger;
    this.epoch = opts.epoch;
    this.peers = opts.peers;
  }

  get id(): { self: string; bootId: string } {
    return { self: this.opts.self, bootId: this.bootId };
  }

  async start(): Promise<void> {
    if (this.state !== 'idle')
      throw new HaloError('HALO_E_INTERNAL', `transport cannot start from state ${this.state}`);
    if (this.keyFor(this.opts.cluster) === undefined) {
      throw new HaloError('HALO_E_SECRET', `no key for cluster ${this.opts.cluster}`);
    }
    this.state = 'starting';
    try {
      for (const [index, link] of this.opts.listen.entries()) {
        const socket = dgram.createSocket({ type: isIPv6(link.host) ? 'udp6' : 'udp4' });
        this.sockets.push(socket);
        socket.on('message', (msg, rinfo) =>
          this.receive(msg, index, { host: rinfo.address, port: rinfo.port }),
        );
        socket.on('error', (err) =>
          this.log.warn({ link: index, err: err.message }, 'transport socket error'),
        );
        await bind(socket, link);
      }
    } catch (err) {
      await this.closeSockets();
      this.state = 'stopped';
      throw err;
    }
    this.state = 'running';
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.queue.clear();
    await this.closeSockets();
  }

  /** Bound addresses of the listen sockets, in `listen` order (real ports when 0 was asked). */
  addresses(): Link[] {
    return this.sockets.map((s) => {
      const a = s.address();
      return { host: a.address, port: a.port };
    });
  }

  onMessage(listener: MessageListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Queues a payload for `to`; it leaves with the next `flush()`. */
  send(to: string, payload: unknown, cluster: string = this.opts.cluster): void {
    if (this.peerLinks(cluster, to) === undefined) {
      throw new HaloError('HALO_E_INTERNAL', `no peer ${to} in cluster ${cluster}`);
    }
    let byPeer = this.queue.get(cluster);
    if (byPeer === undefined) {
      byPeer = new Map();
      this.queue.set(cluster, byPeer);
    }
    const list = byPeer.get(to);
    if (list === undefined) byPeer.set(to, [payload]);
    else list.push(payload);
  }

  /** Sends every queued payload: one frame per peer (split when it would exceed maxFrameBytes). */
  flush(): void {
    if (this.state !== 'running') {
      this.queue.clear();
      return;
    }
    for (const [cluster, byPeer] of this.queue) {
      const key = this.keyFor(cluster);
      if (key === undefined) continue;
      for (const [to, payloads] of byPeer) {
        const links = this.peerLinks(cluster, to) ?? [];
        for (const batch of this.batches(cluster, payloads)) {
          const frame = encodeFrame(
            {
              cluster,
              epoch: this.epochFor(cluster) ?? this.heardEpoch.get(cluster) ?? 0,
              from: this.opts.self,
              bootId: this.bootId,
              seq: ++this.seq,
              sentAt: this.clock.now(),
            },
            batch,
            key,
          );
          for (const [i, link] of links.entries()) this.sendDatagram(frame, i, link);
        }
      }
    }
    this.queue.clear();
  }

  /** Applies a new config epoch and peer list (config push) without rebinding sockets. */
  reconfigure(change: { epoch?: number; peers?: Record<string, Link[]> }): void {
    if (change.epoch !== undefined) this.epoch = change.epoch;
    if (change.peers !== undefined) this.peers = change.peers;
  }

  stats(): TransportStats {
    return { ...this.counters, dropped: { ...this.counters.dropped } };
  }

  private keyFor(cluster: string): Buffer | undefined {
    if (cluster === this.opts.cluster && this.opts.key !== undefined) return this.opts.key;
    return this.opts.keys?.[cluster];
  }

  private epochFor(cluster: string): number | undefined {
    return cluster === this.opts.cluster ? this.epoch : this.opts.epochs?.[cluster];
  }

  private peerLinks(cluster: string, name: string): Link[] | undefined {
    const peers = cluster === this.opts.cluster ? this.peers : this.opts.clusterPeers?.[cluster];
    return peers !== undefined && Object.hasOwn(peers, name) ? peers[name] : undefined;
  }

  private acceptSender(from: string, cluster: string): boolean {
    if (from === this.opts.self && cluster === this.opts.cluster) return false;
    if (this.opts.accept) return this.opts.accept(from, cluster);
    const peers = cluster === this.opts.cluster ? this.peers : this.opts.clusterPeers?.[cluster];
    return peers === undefined || Object.hasOwn(peers, from);
  }

  private *batches(cluster: string, payloads: unknown[]): Generator<unknown[]> {
    const overhead = frameOverheadBytes({
      cluster,
      epoch: Number.MAX_SAFE_INTEGER,
      from: this.opts.self,
      bootId: this.bootId,
      seq: Number.MAX_SAFE_INTEGER,
      sentAt: -Number.MAX_VALUE,
    });
    const budget = (this.opts.maxFrameBytes ?? 60_000) - overhead;
    let batch: unknown[] = [];
    let size = 0;
    for (const payload of payloads) {
      let json: string | undefined;
      try {
        json = JSON.stringify(payload);
      } catch {
        json = undefined; // a BigInt or a cycle: a caller bug, counted like an oversize payload
      }
      const bytes = json === undefined ? 0 : Buffer.byteLength(json) + 1;
      if (json === undefined || bytes > budget) {
        this.counters.oversize++;
        this.log.warn({ cluster, bytes }, 'payload dropped: not serialisable or too large for one frame');
        continue;
      }
      if (size + bytes > budget && batch.length > 0) {
        yield batch;
        batch = [];
        size = 0;
      }
      batch.push(payload);
      size += bytes;
    }
    if (batch.length > 0) yield batch;
  }

  private sendDatagram(frame: Buffer, linkIndex: number, link: Link): void {
    const socket = this.socketFor(linkIndex, link);
    if (socket === undefined) {
      this.counters.sendErrors++;
      return;
    }
    this.counters.sent++;
    socket.send(frame, link.port, link.host, (err) => {
      if (err) {
        this.counters.sendErrors++;
        this.log.debug({ host: link.host, port: link.port, err: err.message }, 'datagram not sent');
      }
    });
  }

  /** Link i of a peer is reached from our link i (same network), else any socket of the family. */
  private socketFor(linkIndex: number, link: Link): dgram.Socket | undefined {
    const type = isIPv6(link.host) ? 'udp6' : 'udp4';
    const same = this.sockets[linkIndex];
    if (same !== undefined && linkType(this.opts.listen[linkIndex]) === type) return same;
    return this.sockets.find((_s, i) => linkType(this.opts.listen[i]) === type);
  }

  private receive(msg: Buffer, link: number, address: Link): void {
    if (this.state !== 'running') return;
    const decodeOpts: DecodeOptions = {
      keyFor: (c) => this.keyFor(c),
      epochFor: (c) => this.epochFor(c),
      acceptSender: (c, from) => this.acceptSender(from, c),
      replay: this.replay,
    };
    const result = decodeFrame(msg, decodeOpts);
    if (!result.ok) {
      this.counters.dropped[result.reason]++;
      return;
    }
    const { header, payloads } = result.frame;
    this.counters.received++;
    this.heardEpoch.set(header.cluster, header.epoch);
    const meta: MessageMeta = {
      cluster: header.cluster,
      epoch: header.epoch,
      sentAt: header.sentAt,
      bootId: header.bootId,
      seq: header.seq,
      link,
      address,
    };
    for (const listener of [...this.listeners]) {
      try {
        listener(header.from, payloads, meta);
      } catch (err) {
        this.log.error({ from: header.from, err: (err as Error).message }, 'message listener failed');
      }
    }
  }

  private async closeSockets(): Promise<void> {
    const closing = this.sockets.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          try {
            s.close(() => resolve());
          } catch {
            resolve();
          }
        }),
    );
    await Promise.all(closing);
  }
}

function linkType(link: Link | undefined): 'udp4' | 'udp6' {
  return link !== undefined && isIPv6(link.host) ? 'udp6' : 'udp4';
}

function bind(socket: dgram.Socket, link: Link): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const code = err.code === 'EACCES' ? 'HALO_E_PERMISSION' : 'HALO_E_LISTEN_FAILED';
      reject(
        new HaloError(code, `cannot listen on ${link.host}:${link.port} (${err.code ?? err.message})`, {
          host: link.host,
          port: link.port,
        }),
      );
    };
    socket.once('error', onError);
    socket.bind(link.port, link.host, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}
