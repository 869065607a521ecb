import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import https from 'node:https';
import type { Server, Socket } from 'node:net';
import type { KeepaliveConfig } from '../config/model.js';

/**
 * TCP keepalive on every socket Halo opens: stateful firewalls and load
 * balancers drop flows idle longer than their timeout (Azure Firewall 240 s, Azure LB 4 min,
 * AWS NLB 350 s), so an idle connection must send a probe before that.
 *
 * What Node 20 can set (docs/keepalive.md has the measurements): `socket.setKeepAlive(true,
 * ms)` turns on SO_KEEPALIVE and sets TCP_KEEPIDLE to whole seconds (ms / 1000, truncated);
 * libuv 1.46 then sets TCP_KEEPINTVL = 1 s and TCP_KEEPCNT = 10 on Linux, fixed. Node has no
 * API for other interval or count values, so `cluster.keepalive.interval` and `.count` are
 * what `halo doctor` checks in the OS defaults (for the protected application), not what
 * Halo's own sockets use.
 */

export type KeepaliveSettings = Pick<KeepaliveConfig, 'idleMs'> & Partial<KeepaliveConfig>;

/** The schema's defaults (config/schema.ts), for a CLI that runs without a config file. */
export const DEFAULT_KEEPALIVE: KeepaliveConfig = { idleMs: 230_000, intervalMs: 1_000, count: 5 };

/** What libuv fixes on Linux for every socket with keepalive on (src/unix/tcp.c, uv__tcp_keepalive). */
export const NODE_FIXED_KEEPALIVE = { intervalS: 1, count: 10 } as const;

/** TCP_KEEPIDLE the kernel will get for `idleMs`: whole seconds, at least 1. */
export function keepaliveIdleSeconds(idleMs: number): number {
  return Math.max(1, Math.floor(idleMs / 1000));
}

/**
 * Enables keepalive on one socket. Safe before the socket is connected: Node stores the
 * setting and applies it once the handle exists.
 */
export function applyKeepalive(socket: Socket, cfg: KeepaliveSettings): void {
  socket.setKeepAlive(true, keepaliveIdleSeconds(cfg.idleMs) * 1000);
}

/**
 * Every connection a server accepts gets keepalive. The `connection` event carries the raw
 * TCP socket also for TLS servers, before the handshake.
 */
export function keepaliveServer(server: Server, cfg: KeepaliveSettings): void {
  server.on('connection', (socket: Socket) => applyKeepalive(socket, cfg));
}

let clientSettings: KeepaliveSettings | undefined;
let clientHooked = false;

/**
 * Enables keepalive on every outgoing TCP connection of this process: `net.connect` (plain
 * http.Agent, grpc over plain TCP) through the `net.client.socket` diagnostics channel, and
 * `fetch` (Node's bundled undici, http and https) through `undici:client:connected`. The
 * second matters: undici calls setKeepAlive(true, 60 s) itself after connecting, which would
 * override a setting made when the socket was created. Idempotent; the last settings win.
 * Sockets from `tls.connect` (https.Agent) are not covered: use `keepaliveHttpAgents`.
 */
export function installClientKeepalive(cfg: KeepaliveSettings): void {
  clientSettings = cfg;
  if (clientHooked) return;
  clientHooked = true;
  const onSocket = (message: unknown) => {
    const socket = (message as { socket?: Socket } | null)?.socket;
    if (clientSettings && socket && typeof socket.setKeepAlive === 'function')
      applyKeepalive(socket, clientSettings);
  };
  diagnostics.subscribe('net.client.socket', onSocket);
  diagnostics.subscribe('undici:client:connected', onSocket);
}

/**
 * Agents for the AWS SDK's NodeHttpHandler (`requestHandler: { httpAgent, httpsAgent }`):
 * the handler calls `socket.setKeepAlive(agent.keepAlive, agent.keepAliveMsecs)` on every
 * request's socket, and the SDK's default agent uses Node's default of 1000 ms.
 */
export function keepaliveHttpAgents(cfg: KeepaliveSettings): {
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
} {
  const keepAliveMsecs = keepaliveIdleSeconds(cfg.idleMs) * 1000;
  return {
    httpAgent: new http.Agent({ keepAlive: true, keepAliveMsecs }),
    httpsAgent: new https.Agent({ keepAlive: true, keepAliveMsecs }),
  };
}

/**
 * Channel options for etcd3 (`new Etcd3({ grpcOptions })`): HTTP/2 PINGs every idle period
 * keep the flow alive at the application level too; etcd's default
 * --grpc-keepalive-min-time (5 s) is far below any sensible idle value.
 */
export function etcdGrpcKeepaliveOptions(cfg: KeepaliveSettings): Record<string, number> {
  const interval = cfg.intervalMs ?? DEFAULT_KEEPALIVE.intervalMs;
  const count = cfg.count ?? DEFAULT_KEEPALIVE.count;
  return {
    'grpc.keepalive_time_ms': keepaliveIdleSeconds(cfg.idleMs) * 1000,
    'grpc.keepalive_timeout_ms': Math.max(1000, interval * count),
    'grpc.keepalive_permit_without_calls': 1,
  };
}
