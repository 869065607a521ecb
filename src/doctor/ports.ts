import { createSocket } from 'node:dgram';
import http from 'node:http';
import https from 'node:https';
import { createServer } from 'node:net';
import type { HaloConfig, NodeConfig } from '../config/model.js';
import type { CheckResult } from './types.js';

/**
 * Is this node's API port (TCP) and peer port (UDP) free, or held by our own agent? Doctor
 * runs before the agent is started (pre-flight) and while it runs; both are fine, a foreign
 * program on the port is not.
 */

export type BindOutcome = 'free' | 'in-use' | 'no-address' | 'denied' | 'error';

export async function tryBindTcp(host: string, port: number): Promise<BindOutcome> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(bindError(err)));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve('free')));
  });
}

export async function tryBindUdp(host: string, port: number): Promise<BindOutcome> {
  return new Promise((resolve) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.once('error', (err: NodeJS.ErrnoException) => {
      s.close();
      resolve(bindError(err));
    });
    s.bind({ address: host, port, exclusive: true }, () => s.close(() => resolve('free')));
  });
}

function bindError(err: NodeJS.ErrnoException): BindOutcome {
  if (err.code === 'EADDRINUSE') return 'in-use';
  if (err.code === 'EADDRNOTAVAIL') return 'no-address';
  if (err.code === 'EACCES') return 'denied';
  return 'error';
}

export interface AgentProbe {
  /** Something answers /openapi.json as the Halo API. */
  halo: boolean;
  /** The node name the agent reports in /v1/status (needs the token). */
  node?: string;
  status?: AgentStatusDoc;
}

export interface AgentStatusDoc {
  node: string;
  nodes: Array<{ name: string; up: boolean; lastSeenAgoMs: number | null }>;
  witness: { up: boolean } | null;
}

/** GET a JSON document from the local API; TLS certificates are not verified (same machine). */
export function getJson(url: string, token: string | undefined, timeoutMs: number): Promise<unknown> {
  const lib = url.startsWith('https:') ? https : http;
  return new Promise((resolve) => {
    const req = lib.get(
      url,
      {
        timeout: timeoutMs,
        headers: token ? { authorization: `Bearer ${token}` } : {},
        ...(lib === https ? { rejectUnauthorized: false } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          try {
            resolve(res.statusCode === 200 ? JSON.parse(body) : undefined);
          } catch {
            resolve(undefined);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

export async function probeLocalAgent(
  config: HaloConfig,
  self: NodeConfig,
  token: string | undefined,
  timeoutMs: number,
): Promise<AgentProbe> {
  const host = ['0.0.0.0', '::'].includes(config.cluster.api.host) ? '127.0.0.1' : config.cluster.api.host;
  const base = `${config.cluster.api.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${self.apiPort}`;
  const doc = (await getJson(`${base}/openapi.json`, undefined, timeoutMs)) as
    | { info?: { title?: string } }
    | undefined;
  const halo = typeof doc?.info?.title === 'string' && doc.info.title.startsWith('Halo');
  if (!halo) return { halo };
  const status = (await getJson(`${base}/v1/status?peers=0`, token, timeoutMs)) as AgentStatusDoc | undefined;
  return status && typeof status.node === 'string' ? { halo, node: status.node, status } : { halo };
}

export function checkApiPort(
  self: NodeConfig,
  host: string,
  outcome: BindOutcome,
  agent: AgentProbe,
): CheckResult {
  const base = { id: 'api-port', title: `API port ${self.apiPort}/tcp` };
  const who = `ss -ltnp 'sport = :${self.apiPort}'   # which program holds it`;
  switch (outcome) {
    case 'free':
      return { ...base, status: 'pass', message: `free on ${host} (the agent is not running here)` };
    case 'in-use':
      if (agent.node === self.name)
        return { ...base, status: 'pass', message: `in use by this node's agent (${self.name})` };
      if (agent.node !== undefined)
        return {
          ...base,
          status: 'fail',
          message: `in use by the agent of node ${agent.node}, not ${self.name}`,
          fix: [`give each node its own apiPort in the config, or run doctor with --node ${agent.node}`],
        };
      if (agent.halo)
        return {
          ...base,
          status: 'pass',
          message: 'in use by a Halo agent (pass the API token to confirm which node)',
        };
      return { ...base, status: 'fail', message: 'in use by another program', fix: [who] };
    case 'no-address':
      return noAddress(base, host);
    case 'denied':
      return {
        ...base,
        status: 'fail',
        message: `binding port ${self.apiPort} needs privileges`,
        fix: ['use a port above 1023, or run the agent with CAP_NET_BIND_SERVICE'],
      };
    default:
      return { ...base, status: 'warn', message: `cannot test port ${self.apiPort} on ${host}` };
  }
}

export function checkPeerPort(self: NodeConfig, outcome: BindOutcome, agent: AgentProbe): CheckResult {
  const base = { id: 'peer-port', title: `Peer port ${self.peerPort}/udp` };
  switch (outcome) {
    case 'free':
      return { ...base, status: 'pass', message: `free on ${self.address} (the agent is not running here)` };
    case 'in-use':
      return agent.halo
        ? { ...base, status: 'pass', message: `in use by the local Halo agent` }
        : {
            ...base,
            status: 'fail',
            message: `in use by another program (no Halo agent answers on port ${self.apiPort})`,
            fix: [`ss -lunp 'sport = :${self.peerPort}'   # which program holds it`],
          };
    case 'no-address':
      return noAddress(base, self.address);
    default:
      return { ...base, status: 'warn', message: `cannot test UDP port ${self.peerPort} on ${self.address}` };
  }
}

function noAddress(base: { id: string; title: string }, host: string): CheckResult {
  return {
    ...base,
    status: 'fail',
    message: `address ${host} is not configured on this machine`,
    fix: [
      'run doctor on the node the config names, or pass the right --node NAME',
      'ip -br addr   # this machine’s addresses',
    ],
  };
}
