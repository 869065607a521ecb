import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, stringify } from 'yaml';
import { tcpConnects } from '../lab-kit/cloud.js';
import { LabError, missingTools, run } from '../lab-kit/exec.js';
import { HALO_CLI, Lab, monoMs } from '../lab-kit/lab.js';
import type { ProbeRecord } from '../lab-kit/lab-client.js';
import { listNamespaces } from '../lab-kit/netns.js';
import { CLIENT } from '../lab-kit/topology.js';
import { runSession, writeApps } from './azure-wsfc-apps.js';
import {
  buildClusterNetwork,
  buildFirewall,
  buildLbNamespace,
  clusterAddress,
  clusterIpAcceptedBy,
  clusterNetwork,
  clusterRxPackets,
  firewallDrops,
  LabLoadBalancer,
  ns,
  prepareDsrNodes,
  setKeepaliveSysctls,
} from './azure-wsfc-net.js';
import type { Scenario } from './scenario.js';

/**
 * The WSFC-on-Azure deployment (docs/scenarios.md) replayed in the namespace lab; docs/scenarios.md
 * "azure-wsfc" maps each step to the config and command. The report's times are scaled down
 * so the whole run stays well under a minute on a small machine: the firewall forgets idle
 * flows after 4 s instead of 240 s, the keepalive idle is 2 s instead of 230 s.
 */

const GROUP = 'sql';
const PROBE_PORT = 59999;
const NEW_PROBE_PORT = 59998;
const DB_PORT = 7000;
const FW_IDLE_S = 4;
/** Longer than the firewall's idle timeout, and than a lease of the `fast` profile. */
const SILENCE_MS = 6000;
const KEEPALIVE = { idle: 2, interval: 1, count: 2 };

const timeS = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export const scenario: Scenario = {
  name: 'azure-wsfc',
  title:
    'WSFC on Azure: internal LB + probe port, cluster network, ProbePort change, idle-flow firewall, teardown',
  run: replayScenario,
};

async function replayScenario(log: (line: string) => void): Promise<void> {
  if (process.getuid?.() !== 0) throw new LabError('the azure-wsfc scenario needs root (network namespaces)');
  const missing = missingTools(['ip', 'nft', 'ss', ...(process.env['HALO_HAPROXY_BIN'] ? [] : ['haproxy'])]);
  if (missing.length > 0) throw new LabError(`the azure-wsfc scenario needs ${missing.join(', ')}`);
  const started = monoMs();
  const lab = await Lab.create({ timing: 'fast' });
  const lb = new LabLoadBalancer(lab);
  try {
    await replay(lab, lb, log);
  } catch (err) {
    log(`--- logs kept in ${lab.keepLogs()}`);
    throw err;
  } finally {
    await lab.client.stopProbe().catch(() => []);
    await lb.stop();
    await lab.cleanup();
  }
  const left = (await listNamespaces()).filter((n) => n.startsWith(lab.prefix));
  assert.deepEqual(left, [], 'no namespace of the scenario is left');
  log(`cleanup: every namespace and process of the lab removed (${timeS(monoMs() - started)} in all)`);
}

async function replay(lab: Lab, lb: LabLoadBalancer, log: (line: string) => void): Promise<void> {
  const [n1, n2] = lab.nodes as [string, string];
  const apps = writeApps(lab);
  const tokenFile = join(lab.dir, 'api.token');
  const token = randomBytes(24).toString('hex');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  // The lab reads each agent's token from its state dir; with a cluster-wide tokenFile (which
  // destroy needs, to talk to every node) the agents do not write one there.
  for (const node of lab.nodes) {
    mkdirSync(lab.stateDir(node), { recursive: true, mode: 0o700 });
    writeFileSync(join(lab.stateDir(node), 'api.token'), `${token}\n`, { mode: 0o600 });
  }

  log('1. Two VMs, a witness, a cluster network, an internal load balancer, a firewall');
  await buildClusterNetwork(lab);
  await prepareDsrNodes(lab);
  await buildLbNamespace(lab);
  await buildFirewall(lab, FW_IDLE_S);
  const config = parse(readFileSync(lab.configFile, 'utf8')) as Record<string, any>;
  config['cluster'].api = { tokenFile };
  config['cluster'].keepalive = {
    idle: `${KEEPALIVE.idle}s`,
    interval: `${KEEPALIVE.interval}s`,
    count: KEEPALIVE.count,
  };
  for (const node of lab.nodes) config['nodes'][node].links = [clusterAddress(lab, node)];
  config['groups'] = {
    [GROUP]: {
      nodes: [n1, n2],
      resources: {
        vip: { type: 'ip', ip: lab.vip, prefix: 32, device: 'lo', arpCount: 0 },
        db: {
          type: 'process',
          after: ['vip'],
          command: [process.execPath, apps.db, String(DB_PORT)],
          startGrace: '300ms',
          timeout: { stop: '3s' },
        },
        probe: { type: 'lb-probe', after: ['vip', 'db'], probePort: PROBE_PORT, ip: lab.vip },
      },
    },
  };
  writeFileSync(lab.configFile, stringify(config));
  await lab.startWitness();
  await lab.startAgent(n1);
  await lab.startAgent(n2);
  await waitOwner(lab, n1);
  for (const node of lab.nodes)
    await lab.waitFor(`${node} out of quarantine`, async () => !(await lab.status(node)).quarantined);
  assert.equal(await vipOnLo(lab, n2), false, 'the standby has no cluster IP on lo');
  const probe = (node: string, port = PROBE_PORT) => tcpConnects(lab, CLIENT, lab.address(node), port);
  await lab.waitFor(`probe port ${PROBE_PORT} open on ${n1}`, () => probe(n1));
  assert.equal(await probe(n2), false, `probe port ${PROBE_PORT} closed on the standby`);
  log(`   ${GROUP} runs on ${n1}: cluster IP ${lab.vip} on its lo, probe port ${PROBE_PORT} open there only`);

  await lb.start({ probePort: PROBE_PORT, servicePort: lab.servicePort, dbPort: DB_PORT });
  await lab.client.startProbe(lab.vip, lab.servicePort, 20, 300);
  await lab.waitFor('the client served through the load balancer', async () =>
    (await lab.client.probeRecords()).some((r) => r[1] === n1),
  );
  await sleep(500);
  const early = await lab.client.probeRecords();
  assert.ok(
    early.every((r) => r[1] === n1 || r[1] === ''),
    'before any failover only the owner gets traffic through the load balancer',
  );
  assert.equal(await clusterIpAcceptedBy(lab, n1, lab.servicePort), true, `${n1} accepts the cluster IP`);
  assert.equal(
    await clusterIpAcceptedBy(lab, n2, lab.servicePort),
    false,
    `${n2} drops packets addressed to the cluster IP: it does not own it`,
  );
  log(
    `   load balancer: HAProxy on ${lab.vip} (the cluster IP), backends ${lab.nodes.join(', ')}, health probe :${PROBE_PORT}; the client is served by ${n1} only; sent to the cluster IP, ${n1} accepts and ${n2} drops`,
  );

  await clusterNetworkAndFirewall(lab, apps.session, log);

  log(`4. Planned failover: halo move ${GROUP} ${n2}`);
  const move1 = await move(lab, n2);
  await waitOwner(lab, n2);
  await lab.waitFor(`probe port ${PROBE_PORT} open on ${n2}`, () => probe(n2));
  const d1 = await downtime(lab, move1, n1, n2);
  log(`   ${d1}`);

  log(`5. ProbePort change: halo resource set ${GROUP}/probe probePort=${NEW_PROBE_PORT}`);
  const set = await cli(lab, ['resource', 'set', `${GROUP}/probe`, `probePort=${NEW_PROBE_PORT}`], n2);
  assert.match(set, /pending until the resource restarts.*probePort/, set);
  const pending = JSON.parse(await cli(lab, ['resource', 'get', `${GROUP}/probe`, '--json'], n1)) as {
    params: Record<string, unknown>;
    pending: Record<string, unknown>;
  };
  assert.equal(pending.params['probePort'], PROBE_PORT, 'the running probe keeps its port');
  assert.equal(
    pending.pending['probePort'],
    NEW_PROBE_PORT,
    'the new port is pending (asked on the standby)',
  );
  assert.equal(await probe(n2), true, `${n2} still listens on ${PROBE_PORT}`);
  assert.equal(await probe(n2, NEW_PROBE_PORT), false, `${n2} does not listen on ${NEW_PROBE_PORT} yet`);
  const stillServed = await lab.client.probeRecords(monoMs() - 300);
  assert.ok(
    stillServed.some((r) => r[1] === n2),
    'the load balancer still sends traffic to the owner',
  );
  log(
    `   "${set.trim().split('\n').at(-2)}"; ${n2} keeps listening on ${PROBE_PORT} until the resource restarts`,
  );

  log(`6. The restart: halo move ${GROUP} ${n1}, and the load balancer's probe pointed at ${NEW_PROBE_PORT}`);
  const move2 = await move(lab, n1);
  await waitOwner(lab, n1);
  await lab.waitFor(`probe port ${NEW_PROBE_PORT} open on ${n1}`, () => probe(n1, NEW_PROBE_PORT));
  const repointing = monoMs();
  await lb.start({ probePort: NEW_PROBE_PORT, servicePort: lab.servicePort, dbPort: DB_PORT });
  const repointMs = monoMs() - repointing;
  const d2 = await downtime(lab, move2, n2, n1);
  log(
    `   ${d2}; of it, ${repointMs.toFixed(0)} ms to replace HAProxy with the one probing ${NEW_PROBE_PORT}`,
  );
  for (const node of lab.nodes)
    assert.equal(await probe(node, PROBE_PORT), false, `nobody listens on the old port ${PROBE_PORT}`);
  assert.equal(await probe(n2, NEW_PROBE_PORT), false, `the standby's new probe port is closed`);
  const applied = JSON.parse(await cli(lab, ['resource', 'get', `${GROUP}/probe`, '--json'], n2)) as {
    params: Record<string, unknown>;
    pending: Record<string, unknown>;
  };
  assert.equal(applied.params['probePort'], NEW_PROBE_PORT, 'the new port is in effect');
  assert.deepEqual(applied.pending, {}, 'nothing pending any more');
  log(
    `   probe port ${NEW_PROBE_PORT} in effect on ${n1}, nothing pending; the load balancer serves ${n1} again`,
  );
  await lab.client.stopProbe();

  await teardown(lab, apps.session, log);
}

/**
 * Step 2 (the cluster network fails while the client network is up) and step 3 (the
 * firewall) share one silent period: both need several seconds of waiting, and neither
 * moves the group.
 */
async function clusterNetworkAndFirewall(lab: Lab, sessionFile: string, log: (line: string) => void) {
  const [n1, n2] = lab.nodes as [string, string];
  log('2. Dedicated cluster network (nodes.NAME.links) lost while the client network stays up');
  const rx0 = await clusterRxPackets(lab, n2);
  await sleep(500);
  const rx1 = await clusterRxPackets(lab, n2);
  assert.ok(rx1 > rx0, 'the agents exchange messages over the cluster network');
  const before = await groupOf(lab, n1);

  log(
    `3. Firewall forgetting flows idle > ${FW_IDLE_S} s; app1: SO_KEEPALIVE and keepalive time ${KEEPALIVE.idle} s, app2: neither`,
  );
  await setKeepaliveSysctls(lab, 'app1', KEEPALIVE.idle, KEEPALIVE.interval, KEEPALIVE.count);
  const session = (app: string, keepalive: boolean) =>
    runSession(ns(lab, app), sessionFile, {
      host: lab.vip,
      port: DB_PORT,
      keepalive,
      idleMs: SILENCE_MS,
      answerMs: 2000,
    });
  const sessions = Promise.all([session('app1', true), session('app2', false)]);
  // Awaited below; if a check fails first, the teardown kills them and that must not become
  // an unhandled rejection that ends the process before the lab is removed.
  sessions.catch(() => {});
  await lab.waitFor('both app sessions established on the owner', async () => {
    const r = await run([
      'ip',
      'netns',
      'exec',
      lab.ns(n1),
      'ss',
      '-Htn',
      'state',
      'established',
      `sport = :${DB_PORT}`,
    ]);
    const lines = r.stdout.trim().split('\n').filter(Boolean);
    // Addressed to the cluster IP on the node itself: the packets kept the frontend address.
    return lines.length >= 2 && lines.every((l) => l.includes(`${lab.vip}:${DB_PORT}`));
  });
  const sinceCut = monoMs();
  await clusterNetwork(lab, false);
  await sleep(SILENCE_MS - 1000);
  for (const node of lab.nodes) {
    const s = await lab.status(node);
    assert.equal(s.quorum, true, `${node} keeps quorum without the cluster network`);
  }
  const after = await groupOf(lab, n1);
  assert.equal(after.owner, n1, 'no failover');
  assert.equal(after.term, before.term, 'same lease term: the owner renewed over the client network');
  const served = await lab.client.probeRecords(sinceCut);
  const failed = served.filter((r) => r[1] === '').length;
  // A request may time out (300 ms) on a busy machine without any failover; a lost owner
  // would fail dozens in a row.
  assert.ok(served.length > 20 && failed <= 3, `the client kept being served (${failed} failed)`);
  assert.deepEqual(await lab.runningOn(GROUP), [n1]);
  await clusterNetwork(lab, true);
  log(
    `   cluster network down ${timeS(SILENCE_MS - 1000)}: ${n1} kept ${GROUP} (same term), both nodes kept quorum over the client network, ${served.length - failed} client requests served, ${failed} failed; ${n2} saw peer traffic on eth1 before`,
  );

  const [kept, lost] = await sessions;
  assert.equal(kept.first, `${n1} hello`, 'app1 reached the database through firewall and load balancer');
  assert.equal(lost.first, `${n1} hello`, 'app2 reached the database through firewall and load balancer');
  assert.equal(kept.second, `${n1} again`, `app1's session survived ${timeS(SILENCE_MS)} of silence`);
  assert.equal(lost.second, null, `app2's session was dropped by the firewall after ${FW_IDLE_S} s idle`);
  const drops = await firewallDrops(lab);
  assert.ok(drops > 0, 'the firewall dropped packets of the forgotten flow');
  log(
    `   after ${timeS(SILENCE_MS)} silent: app1 (keepalive) answered "${kept.second}"; app2 got no answer (the firewall dropped ${drops} packets of its forgotten flow, no reset)`,
  );
  const doctor = async (app: string) => {
    const r = await run(
      [
        'ip',
        'netns',
        'exec',
        ns(lab, app),
        process.execPath,
        HALO_CLI,
        'doctor',
        '-c',
        lab.configFile,
        '--node',
        n1,
        '--state-dir',
        lab.stateDir(n1),
        '--json',
      ],
      { allowFail: true, timeoutMs: 20_000 },
    );
    const report = JSON.parse(r.stdout) as {
      checks: Array<{ id: string; status: string; message: string; fix?: string[] }>;
    };
    const check = report.checks.find((c) => c.id === 'keepalive-sysctl');
    assert.ok(check, `halo doctor has the keepalive check (${app})`);
    return check;
  };
  const good = await doctor('app1');
  const bad = await doctor('app2');
  assert.equal(good.status, 'pass', `doctor on app1: ${good.message}`);
  assert.equal(bad.status, 'warn', `doctor on app2: ${bad.message}`);
  assert.ok(
    bad.fix?.some((f) => f.includes(`net.ipv4.tcp_keepalive_time=${KEEPALIVE.idle}`)),
    `doctor prints the fix: ${bad.fix}`,
  );
  log(`   halo doctor in app1: PASS; in app2: WARN "${bad.message.slice(0, 110)}…"`);
  log(`      fix: ${bad.fix?.[0]}`);
}

async function teardown(lab: Lab, sessionFile: string, log: (line: string) => void): Promise<void> {
  const [n1] = lab.nodes as [string];
  log('7. Teardown with an app server still attached: halo destroy (plan only), then halo destroy --yes');
  // An app server keeps a session to the database through the teardown; it would ask again
  // only after a long silence, so it ends early only if destroy closes the database under it.
  const attachedFor = 30_000;
  const attachedSince = monoMs();
  const attached = runSession(ns(lab, 'app1'), sessionFile, {
    host: lab.vip,
    port: DB_PORT,
    keepalive: true,
    idleMs: attachedFor,
    answerMs: 1000,
  });
  attached.catch(() => {});
  await lab.waitFor('the app server attached to the database', async () => {
    const r = await run([
      'ip',
      'netns',
      'exec',
      lab.ns(n1),
      'ss',
      '-Htn',
      'state',
      'established',
      `sport = :${DB_PORT}`,
    ]);
    return r.stdout.trim() !== '';
  });
  const plan = await run(cliArgv(lab, ['destroy', '-c', lab.configFile]), {
    allowFail: true,
    timeoutMs: 30_000,
  });
  assert.equal(plan.code, 2, `destroy without --yes only prints the plan: ${plan.stdout}${plan.stderr}`);
  assert.match(plan.stdout, /stop group sql \(running on n1\): resources probe, then db, then vip/);
  assert.match(plan.stdout, /Nothing was changed/);
  assert.deepEqual(await lab.runningOn(GROUP), [n1], 'without --yes the group keeps running');
  const stillAttached = await run([
    'ip',
    'netns',
    'exec',
    lab.ns(n1),
    'ss',
    '-Htn',
    'state',
    'established',
    `sport = :${DB_PORT}`,
  ]);
  assert.notEqual(stillAttached.stdout.trim(), '', 'without --yes the app server stays attached');
  log(`   without --yes: exit 2, "${/1\. stop group[^\n]*/.exec(plan.stdout)?.[0]}", nothing changed`);

  const done = await run(cliArgv(lab, ['destroy', '-c', lab.configFile, '--yes']), {
    allowFail: true,
    timeoutMs: 60_000,
  });
  assert.equal(done.code, 0, `destroy --yes: ${done.stdout}${done.stderr}`);
  assert.match(done.stdout, /cluster destroyed/);
  const lines = done.stdout.split('\n');
  const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
  const order = ['probe', 'db', 'vip'].map((r) => at(new RegExp(`${n1}: sql/${r}: .*stop`, 'i')));
  assert.ok(
    order.every((i) => i >= 0) && order[0]! < order[1]! && order[1]! < order[2]!,
    `the owner stopped probe, then db, then vip:\n${done.stdout}`,
  );
  const groupStopped = at(/group sql stopped/);
  const agentsGone = lab.nodes.map((n) => at(new RegExp(`^${n}: agent stopped`)));
  assert.ok(
    agentsGone.every((i) => i > groupStopped && groupStopped > order[2]!),
    `groups first, then the agents:\n${done.stdout}`,
  );
  for (const node of lab.nodes) {
    await lab.waitFor(`the agent of ${node} exited`, () => lab.pid(node) === undefined, 10_000);
    assert.equal(await vipOnLo(lab, node), false, `no cluster IP left on ${node}`);
    assert.equal(existsSync(lab.stateDir(node)), false, `${node}'s state directory deleted`);
    const listening = await run(['ip', 'netns', 'exec', lab.ns(node), 'ss', '-Htln']);
    for (const port of [PROBE_PORT, NEW_PROBE_PORT, DB_PORT, 7400])
      assert.ok(!listening.stdout.includes(`:${port} `), `nothing listens on ${port} on ${node}`);
  }
  const session = await attached;
  const heldMs = monoMs() - attachedSince;
  assert.equal(session.first, `${n1} hello`, 'the app server was served before the teardown');
  assert.ok(
    heldMs < attachedFor,
    'the app server’s session was closed by the teardown, not by its own timer',
  );
  log(
    `   the attached app server's session ended when destroy stopped the database (${timeS(heldMs)} after it connected; it would have stayed silent for ${timeS(attachedFor)})`,
  );
  log(
    `   with --yes: ${n1} stopped probe → db → vip, "group sql stopped", then each agent stopped and deleted its state: "cluster destroyed"`,
  );
  log(
    '   nothing of the cluster runs any more: no agent, no cluster IP, no probe or database port on either node',
  );
}

async function waitOwner(lab: Lab, node: string): Promise<void> {
  await lab.waitFor(
    `${node} alone runs ${GROUP}`,
    async () => {
      const running = await lab.runningOn(GROUP);
      return running.length === 1 && running[0] === node;
    },
    20_000,
  );
  await lab.waitFor(`the cluster IP on lo of ${node}`, () => vipOnLo(lab, node));
  for (const other of lab.nodes.filter((n) => n !== node))
    await lab.waitFor(`the cluster IP gone from ${other}`, async () => !(await vipOnLo(lab, other)));
}

async function vipOnLo(lab: Lab, node: string): Promise<boolean> {
  const r = await run(['ip', '-n', lab.ns(node), '-4', 'addr', 'show', 'dev', 'lo']);
  return r.stdout.includes(`${lab.vip}/32`);
}

async function groupOf(lab: Lab, node: string) {
  const g = (await lab.status(node)).groups.find((x) => x.name === GROUP);
  assert.ok(g, `${node} reports ${GROUP}`);
  return g;
}

function cliArgv(lab: Lab, args: string[]): string[] {
  return ['ip', 'netns', 'exec', lab.ns(CLIENT), process.execPath, HALO_CLI, ...args];
}

/** A `halo` command from the client namespace against one node's agent; its stdout. */
async function cli(lab: Lab, args: string[], node: string): Promise<string> {
  const api = ['--api', `http://${lab.address(node)}:7400`, '-c', lab.configFile];
  const r = await run(cliArgv(lab, [...args, ...api]), { timeoutMs: 20_000 });
  return r.stdout;
}

/** `halo move GROUP TO`; the monotonic time it was issued. */
async function move(lab: Lab, to: string): Promise<number> {
  const t = monoMs();
  await cli(lab, ['move', GROUP, to], to);
  return t;
}

/**
 * The downtime of a move as the client saw it through the load balancer: from the last request
 * `from` answered to the first one `to` answered (the client asks every 20 ms).
 */
async function downtime(lab: Lab, issued: number, from: string, to: string): Promise<string> {
  const first = await lab.waitFor(
    `a request answered by ${to} through the load balancer`,
    async () => (await lab.client.probeRecords(issued)).find((r) => r[1] === to),
    15_000,
  );
  await sleep(600);
  const records: ProbeRecord[] = await lab.client.probeRecords(issued - 200);
  const lastOld = records.filter((r) => r[1] === from && r[0] < first[0]).at(-1);
  const failed = records.filter((r) => r[1] === '' && r[0] < first[0]).length;
  const after = records.filter((r) => r[0] > first[0]);
  assert.ok(
    after.every((r) => r[1] !== from),
    `once ${to} answered, ${from} never does (its probe is closed and the cluster IP gone)`,
  );
  // A freshly started HAProxy counts every server up until its first check: a request or two
  // may still be sent to the standby (and time out at the client) right after the swap.
  const settled = after.filter((r) => r[0] > first[0] + 400);
  assert.ok(settled.length > 5, 'the client kept asking after the move');
  assert.ok(
    settled.every((r) => r[1] === to),
    `after the move only ${to} answers (${[...new Set(settled.map((r) => r[1] || 'failed'))]})`,
  );
  const gap = lastOld ? first[0] - lastOld[0] : first[0] - issued;
  return `downtime ${gap.toFixed(0)} ms (last answer from ${from} → first from ${to}; ${failed} requests failed; move issued → first answer from ${to}: ${(first[0] - issued).toFixed(0)} ms)`;
}
