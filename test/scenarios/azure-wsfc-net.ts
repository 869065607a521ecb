import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError, run } from '../lab-kit/exec.js';
import type { Lab } from '../lab-kit/lab.js';
import { cableToSwitch, createNamespace } from '../lab-kit/netns.js';
import { SWITCH } from '../lab-kit/topology.js';

/**
 * The Azure parts of the azure-wsfc scenario, built around a `Lab` (nodes, witness, client on
 * 10.213.0.0/24). Every namespace carries the lab's prefix, so `lab.cleanup()` removes it and
 * kills what runs inside even when the scenario dies half way.
 *
 * - A dedicated cluster network: a second bridge (10.213.1.0/24) and an `eth1` per node, the
 *   second NIC and subnet of the report.
 * - The internal load balancer: HAProxy in namespace `lb`, whose frontend address *is* the
 *   cluster IP. HAProxy is a proxy, not a packet forwarder, so Azure's floating IP cannot be
 *   copied exactly; what is kept is the part that matters to Halo: HAProxy connects to the
 *   cluster IP itself, and a source-address routing rule per backend sends that connection to
 *   one node's NIC. The packet reaches the node still addressed to the cluster IP, which only
 *   the owner accepts (its `ip` resource put it on `lo`), and the health probe on each node's
 *   own address decides which backend gets traffic.
 * - The firewall: namespace `fw` routes between two app-server subnets and the lab, and
 *   forgets TCP flows idle longer than a conntrack timeout, then drops their next packet
 *   without a reset (the Azure Firewall of the report, scaled from 240 s to seconds).
 */

export const CLUSTER_NET = '10.213.1';
export const LB_SOURCES: Record<string, string> = { n1: '10.213.0.31', n2: '10.213.0.32' };
const FW_ADDRESS = '10.213.0.250';
export const APP_NETS: Record<string, string> = { app1: '10.213.21', app2: '10.213.22' };

export function ns(lab: Lab, name: string): string {
  return `${lab.prefix}${name}`;
}

async function sysctl(namespace: string, ...settings: string[]): Promise<void> {
  await run(['ip', 'netns', 'exec', namespace, 'sysctl', '-q', '-w', ...settings]);
}

/** A member of the lab's address plan: index 11 + i on each network, as on eth0. */
export function clusterAddress(lab: Lab, node: string): string {
  return `${CLUSTER_NET}.${11 + lab.nodes.indexOf(node)}`;
}

export async function buildClusterNetwork(lab: Lab): Promise<void> {
  const sw = ns(lab, 'sw2');
  await createNamespace(sw);
  await run(['ip', '-n', sw, 'link', 'add', 'br1', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
  await run(['ip', '-n', sw, 'link', 'set', 'br1', 'up']);
  for (const node of lab.nodes) {
    const port = `p2-${node}`;
    await run([
      'ip',
      '-n',
      sw,
      'link',
      'add',
      port,
      'type',
      'veth',
      'peer',
      'name',
      'eth1',
      'netns',
      lab.ns(node),
    ]);
    await run(['ip', '-n', sw, 'link', 'set', port, 'master', 'br1', 'up']);
    await run(['ip', '-n', lab.ns(node), 'addr', 'add', `${clusterAddress(lab, node)}/24`, 'dev', 'eth1']);
    await run(['ip', '-n', lab.ns(node), 'link', 'set', 'eth1', 'up']);
  }
}

/** Pulls (or plugs back) every node's cable on the cluster network. */
export async function clusterNetwork(lab: Lab, up: boolean): Promise<void> {
  for (const node of lab.nodes)
    await run(['ip', '-n', ns(lab, 'sw2'), 'link', 'set', `p2-${node}`, up ? 'up' : 'down']);
}

/** Packets a node has received on its cluster-network NIC so far. */
export async function clusterRxPackets(lab: Lab, node: string): Promise<number> {
  const r = await run(['ip', '-n', lab.ns(node), '-j', '-s', 'link', 'show', 'eth1']);
  const [link] = JSON.parse(r.stdout) as Array<{ stats64?: { rx?: { packets?: number } } }>;
  return link?.stats64?.rx?.packets ?? 0;
}

/**
 * The nodes answer for the cluster IP only on `lo` and never in ARP on their NIC (as every
 * direct-server-return backend must: otherwise the owner would answer the client's ARP for
 * the frontend address instead of the load balancer).
 */
export async function prepareDsrNodes(lab: Lab): Promise<void> {
  for (const node of lab.nodes)
    await sysctl(
      lab.ns(node),
      'net.ipv4.conf.all.arp_ignore=1',
      'net.ipv4.conf.all.arp_announce=2',
      'net.ipv4.conf.eth0.arp_ignore=1',
      'net.ipv4.conf.eth0.arp_announce=2',
    );
}

export async function buildLbNamespace(lab: Lab): Promise<void> {
  const lb = ns(lab, 'lb');
  await createNamespace(lb);
  await sysctl(lb, 'net.ipv6.conf.all.disable_ipv6=1');
  await cableToSwitch(lab.ns(SWITCH), lb, 'p-lb', lab.vip);
  const table = (i: number) => String(101 + i);
  for (const [i, node] of lab.nodes.entries()) {
    const source = LB_SOURCES[node];
    if (!source) throw new LabError(`no load balancer source address for ${node}`);
    await run(['ip', '-n', lb, 'addr', 'add', `${source}/24`, 'dev', 'eth0']);
    await run(['ip', '-n', lb, 'rule', 'add', 'pref', String(10 + i), 'from', source, 'lookup', table(i)]);
    await run([
      'ip',
      '-n',
      lb,
      'route',
      'add',
      `${lab.vip}/32`,
      'via',
      lab.address(node),
      'dev',
      'eth0',
      'table',
      table(i),
    ]);
  }
  // The frontend address is local here too: the per-backend rules must come before the
  // local table, or HAProxy's connection to the cluster IP would loop back to itself.
  await run(['ip', '-n', lb, 'rule', 'add', 'pref', '100', 'lookup', 'local']);
  await run(['ip', '-n', lb, 'rule', 'del', 'pref', '0']);
  for (const net of Object.values(APP_NETS))
    await run(['ip', '-n', lb, 'route', 'add', `${net}.0/24`, 'via', FW_ADDRESS]);
}

export interface LbOptions {
  probePort: number;
  servicePort: number;
  dbPort: number;
}

/**
 * TCP mode, one check per backend on the node's own address (`check addr … port PROBE`,
 * every 100 ms, one answer decides: Azure's `--probe-threshold 1` with a faster interval).
 * Client and server timeouts are long so HAProxy itself never cuts an idle session: the
 * firewall step is about the middlebox, not the balancer.
 */
export function haproxyConfig(lab: Lab, o: LbOptions): string {
  const servers = (port: number) =>
    lab.nodes
      .map(
        (n) =>
          `  server ${n} ${lab.vip}:${port} source ${LB_SOURCES[n]} check addr ${lab.address(n)} port ${o.probePort} inter 100ms fall 1 rise 1`,
      )
      .join('\n');
  return `global
  maxconn 512
defaults
  mode tcp
  timeout connect 300ms
  timeout client 60s
  timeout server 60s
  timeout check 300ms
  retries 1
  option redispatch
frontend svc
  bind ${lab.vip}:${o.servicePort}
  default_backend svc
frontend db
  bind ${lab.vip}:${o.dbPort}
  default_backend db
backend svc
${servers(o.servicePort)}
backend db
${servers(o.dbPort)}
`;
}

const HAPROXY_BIN = process.env['HALO_HAPROXY_BIN'] ?? '/usr/sbin/haproxy';

/** Starts HAProxy in `lb` (or replaces the running one, as re-pointing the LB rule's probe). */
export class LabLoadBalancer {
  private child: ChildProcess | null = null;

  constructor(private readonly lab: Lab) {}

  async start(o: LbOptions): Promise<void> {
    await this.stop();
    const file = join(this.lab.dir, 'haproxy.cfg');
    writeFileSync(file, haproxyConfig(this.lab, o));
    const fd = openSync(this.lab.logFile('haproxy'), 'a');
    try {
      this.child = spawn('ip', ['netns', 'exec', ns(this.lab, 'lb'), HAPROXY_BIN, '-db', '-f', file], {
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    const child = this.child;
    await this.lab.waitFor(
      'haproxy listening on the cluster IP',
      async () => {
        if (child.exitCode !== null) throw new LabError(`haproxy exited:\n${this.lab.logs('haproxy')}`);
        const r = await run(
          ['ip', 'netns', 'exec', ns(this.lab, 'lb'), 'ss', '-Htln', `sport = :${o.servicePort}`],
          { allowFail: true },
        );
        return r.stdout.includes(`${this.lab.vip}:${o.servicePort}`);
      },
      10_000,
    );
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}

/**
 * The firewall between the app servers and the cluster: a router that gives every TCP flow
 * an established timeout of `idleS` seconds (the namespace's conntrack sysctl) and drops
 * what it no longer knows — a packet of a forgotten flow is `new` but not a SYN — silently.
 */
export async function buildFirewall(lab: Lab, idleS: number): Promise<void> {
  const fw = ns(lab, 'fw');
  await createNamespace(fw);
  await sysctl(fw, 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv4.ip_forward=1');
  await cableToSwitch(lab.ns(SWITCH), fw, 'p-fw', FW_ADDRESS);
  for (const [app, net] of Object.entries(APP_NETS)) {
    const appNs = ns(lab, app);
    await createNamespace(appNs);
    await sysctl(appNs, 'net.ipv6.conf.all.disable_ipv6=1');
    await run(['ip', '-n', fw, 'link', 'add', app, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', appNs]);
    await run(['ip', '-n', fw, 'addr', 'add', `${net}.1/24`, 'dev', app]);
    await run(['ip', '-n', fw, 'link', 'set', app, 'up']);
    await run(['ip', '-n', appNs, 'addr', 'add', `${net}.10/24`, 'dev', 'eth0']);
    await run(['ip', '-n', appNs, 'link', 'set', 'eth0', 'up']);
    await run(['ip', '-n', appNs, 'route', 'add', 'default', 'via', `${net}.1`]);
  }
  await run(['ip', 'netns', 'exec', fw, 'nft', '-f', '-'], {
    input: `table inet azfw {
  chain relay {
    type filter hook forward priority filter; policy accept;
    ct state invalid counter drop;
    tcp flags & (fin | syn | rst | ack) != syn ct state new counter drop;
  }
}
`,
  });
  // Not an nftables \`ct timeout\` object: this kernel accepts one but leaves established flows
  // at the default 5 days (checked with /proc/net/nf_conntrack). The sysctl is per namespace,
  // so only the firewall forgets flows this early.
  await sysctl(fw, `net.netfilter.nf_conntrack_tcp_timeout_established=${idleS}`);
}

/** Packets the firewall dropped as belonging to no flow it knows. */
export async function firewallDrops(lab: Lab): Promise<number> {
  const r = await run([
    'ip',
    'netns',
    'exec',
    ns(lab, 'fw'),
    'nft',
    '-j',
    'list',
    'chain',
    'inet',
    'azfw',
    'relay',
  ]);
  let n = 0;
  for (const item of (JSON.parse(r.stdout) as { nftables: Array<Record<string, unknown>> }).nftables) {
    const rule = item['rule'] as { expr?: Array<Record<string, { packets?: number }>> } | undefined;
    for (const e of rule?.expr ?? []) n += e['counter']?.packets ?? 0;
  }
  return n;
}

/** The OS keepalive defaults of an app server (they are per network namespace). */
export async function setKeepaliveSysctls(
  lab: Lab,
  app: string,
  time: number,
  intvl: number,
  probes: number,
) {
  await sysctl(
    ns(lab, app),
    `net.ipv4.tcp_keepalive_time=${time}`,
    `net.ipv4.tcp_keepalive_intvl=${intvl}`,
    `net.ipv4.tcp_keepalive_probes=${probes}`,
  );
}

/**
 * Whether a connection from the load balancer's namespace to the cluster IP, routed to
 * `node`'s NIC (the path HAProxy's backend `node` takes), is accepted there.
 */
export async function clusterIpAcceptedBy(lab: Lab, node: string, port: number): Promise<boolean> {
  const script = `const s = require('node:net').connect({ host: '${lab.vip}', port: ${port}, localAddress: '${LB_SOURCES[node]}' });
s.setTimeout(1000, () => process.exit(1));
s.on('connect', () => process.exit(0));
s.on('error', () => process.exit(1));`;
  const r = await run(['ip', 'netns', 'exec', ns(lab, 'lb'), process.execPath, '-e', script], {
    allowFail: true,
  });
  return r.code === 0;
}
