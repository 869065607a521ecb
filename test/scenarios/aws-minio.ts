import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ec2 from '@aws-sdk/client-ec2';
import { parse, stringify } from 'yaml';
import { LabMoto } from '../lab-kit/cloud.js';
import { LabError, missingTools, run } from '../lab-kit/exec.js';
import { HALO_CLI, Lab, monoMs } from '../lab-kit/lab.js';
import { LabClient } from '../lab-kit/lab-client.js';
import { cableToSwitch, createNamespace } from '../lab-kit/netns.js';
import { CLIENT, SUBNET_PREFIX, SWITCH } from '../lab-kit/topology.js';
import { type AwsLab, createLab, MOTO_REGION, type Moto, routesOf, useFakeAwsEnv } from '../support/moto.js';
import type { Scenario } from './scenario.js';

/**
 * The CLUSTERPRO X on AWS deployment (MinIO on an FSx share behind a route-table VIP; docs/scenarios.md)
 * replayed in the namespace lab. The parts:
 * - two lab nodes server1/server2 ("two AZs") and a witness; moto_server as the EC2 API with
 *   the report's VPC (10.0.0.0/16, two subnets, three route tables, an ENI per node);
 * - a "VPC router" namespace that reads the client subnet's route table from moto and forwards
 *   the client's packets for 172.16.0.1 to the node whose ENI it names (aws-minio-router.ts):
 *   the data path follows the route tables Halo writes, not a shortcut of the test;
 * - group `failover`: aws-route-vip `awsvip` over the three tables, script resource
 *   `script_minio` starting an S3 server (s3rver, aws-minio-s3.ts) on a directory both nodes
 *   see (the FSx share), the report's monitors;
 * - the report's check with a SigV4-signing S3 client through the VIP, a manual failover
 *   clicked in the web UI (Chromium), then a crash of the new owner; the client's downtime of
 *   each failover is measured by a GET every 20 ms;
 * - `halo doctor` on the layout, and once with the source/destination check turned back on.
 */

const VIP = '172.16.0.1';
const CIDR = `${VIP}/32`;
const S3_PORT = 9000;
const ROUTER_HOST = 222;
const NODES = ['server1', 'server2'] as const;
const CHROMIUM = process.env['HALO_CHROMIUM'] ?? '/usr/bin/chromium';
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const S3_SERVER = here('./aws-minio-s3.js');
const S3_CLIENT = here('./aws-minio-client.js');
const ROUTER = here('./aws-minio-router.js');
const OBJECT = '/test/test.txt';
const CONTENT = 'uploaded through the VIP before the failovers\n';

/** What the scenario needs besides the lab's own tools. */
export function awsMinioMissing(): string[] {
  return [...missingTools(['moto_server', 'bash']), ...(existsSync(CHROMIUM) ? [] : [CHROMIUM])];
}

type Log = (line: string) => void;

/**
 * A process counts as running unless it is gone or a zombie: the S3 server is a daemon whose
 * parent is init, and this machine's init reaps late, so `kill -0` alone would see a stopped
 * server as running (the stop waited its full 2 s for nothing).
 */
const ALIVE = `alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }`;

/** The cluster config: the lab's nodes and witness, the report's group and node-level monitors. */
function writeConfig(lab: Lab, aws: AwsLab, endpoint: string, share: string, runDir: string): void {
  const pidfile = `${runDir}/minio.$HALO_NODE.pid`;
  const config = parse(readFileSync(lab.configFile, 'utf8')) as Record<string, unknown>;
  config['groups'] = {
    failover: {
      nodes: [...NODES],
      resources: {
        awsvip: {
          type: 'aws-route-vip',
          ip: VIP,
          routeTables: aws.routeTables,
          eni: Object.fromEntries(NODES.map((n) => [n, aws.enis[n]])),
          endpoint,
          region: MOTO_REGION,
          device: 'lo',
          localAddress: true,
          callTimeout: '1s',
          reconcile: '1s',
        },
        script_minio: {
          type: 'script',
          after: ['awsvip'],
          // start.bat: start MinIO on the share, succeed once it runs.
          start: [
            `rm -f "${pidfile}"`,
            `nohup "${process.execPath}" "${S3_SERVER}" --node "$HALO_NODE" --dir "${share}" --port ${S3_PORT} --pidfile "${pidfile}" >>"${runDir}/minio.$HALO_NODE.log" 2>&1 &`,
            `for i in $(seq 100); do [ -s "${pidfile}" ] && exit 0; sleep 0.05; done; exit 1`,
          ].join('\n'),
          // stop.bat: succeed when it is not running (also when it never ran).
          stop: [
            ALIVE,
            `[ -s "${pidfile}" ] || exit 0`,
            `pid=$(cat "${pidfile}")`,
            'kill "$pid" 2>/dev/null',
            `for i in $(seq 40); do alive "$pid" || { rm -f "${pidfile}"; exit 0; }; sleep 0.05; done`,
            `kill -9 "$pid" 2>/dev/null; rm -f "${pidfile}"; exit 0`,
          ].join('\n'),
          check: `${ALIVE}\n[ -s "${pidfile}" ] && alive "$(cat "${pidfile}")" || exit 7`,
          timeout: { start: '10s', stop: '5s', check: '3s' },
        },
      },
      monitors: {
        awsvipw: { type: 'resource', target: 'awsvip', interval: '1s', timeout: '3s', retries: 0 },
        // genw_minio: only while active, on script_minio. Both lab nodes share one process
        // table, so the check names its own node's pid instead of matching a command line.
        genw_minio: {
          type: 'script',
          target: 'script_minio',
          command: `${ALIVE}\nalive "$(cat "${pidfile}")"`,
          interval: '500ms',
          timeout: '2s',
          retries: 1,
          onFailure: { restart: 1, then: 'failover' },
        },
      },
    },
  };
  config['monitors'] = {
    // genw_fsx: always, on every node, start wait 0 s, 1 retry; 60 s scaled down to 2 s.
    genw_fsx: {
      type: 'script',
      command: `test -d "${share}" && test -w "${share}"`,
      interval: '2s',
      timeout: '1s',
      retries: 1,
      startWait: '0s',
      onFailure: 'ineligible',
    },
    userw: { type: 'stall' },
  };
  writeFileSync(lab.configFile, stringify(config));
}

/** The VPC router: a namespace on the lab's bridge, forwarding, its route set from moto. */
async function startRouter(lab: Lab, moto: LabMoto, aws: AwsLab, table: string): Promise<ChildProcess> {
  const ns = `${lab.prefix}vpc`;
  const address = `${SUBNET_PREFIX}.${ROUTER_HOST}`;
  await createNamespace(ns);
  await run([
    'ip',
    'netns',
    'exec',
    ns,
    'sysctl',
    '-q',
    '-w',
    'net.ipv6.conf.all.disable_ipv6=1',
    'net.ipv4.ip_forward=1',
    // In and out of the same port: redirects would teach the client to skip the router.
    'net.ipv4.conf.all.send_redirects=0',
    'net.ipv4.conf.default.send_redirects=0',
  ]);
  await cableToSwitch(lab.ns(SWITCH), ns, 'p-vpc', address);
  await run(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.conf.eth0.send_redirects=0']);
  const client = lab.ns(CLIENT);
  await run(['ip', 'netns', 'exec', client, 'sysctl', '-q', '-w', 'net.ipv4.conf.all.accept_redirects=0']);
  await run(['ip', '-n', client, 'route', 'add', CIDR, 'via', address]);
  const fd = openSync(lab.logFile('vpc-router'), 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        process.execPath,
        ROUTER,
        moto.endpoint,
        table,
        VIP,
        ...NODES.map((n) => `${aws.enis[n]}=${lab.address(n)}`),
      ],
      { stdio: ['ignore', fd, fd] },
    );
  } finally {
    closeSync(fd);
  }
  await lab.waitFor(
    'the VPC router following the route table',
    () => {
      if (child.exitCode !== null) throw new LabError(`router exited:\n${lab.logs('vpc-router')}`);
      return lab.logs('vpc-router').includes('following');
    },
    15_000,
  );
  return child;
}

/** The S3 client in the client namespace (aws-minio-client.ts). */
async function startS3Client(lab: Lab): Promise<{ child: ChildProcess; client: LabClient }> {
  const fd = openSync(lab.logFile('s3-client'), 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      'ip',
      ['netns', 'exec', lab.ns(CLIENT), process.execPath, S3_CLIENT, VIP, String(S3_PORT)],
      { stdio: ['pipe', 'pipe', fd] },
    );
  } finally {
    closeSync(fd);
  }
  const client = new LabClient(child);
  await Promise.race([
    client.ready,
    new Promise((_, reject) => setTimeout(() => reject(new LabError('S3 client did not start')), 10_000)),
  ]);
  return { child, client };
}

interface S3Answer {
  status: number;
  servedBy: string;
  body: string;
}

type PollRecord = [number, string];

/**
 * Downtime seen by the client: from its last answer by `from` to its first by `to` after the
 * fault (a GET every 20 ms, so the figure is within about 20 ms of the outage).
 */
function downtime(records: PollRecord[], fault: number, from: string, to: string) {
  const firstNew = records.find((r) => r[0] >= fault && r[1] === to);
  if (!firstNew) throw new LabError(`no answer from ${to} after the failover`);
  const lastOld = [...records].reverse().find((r) => r[0] < firstNew[0] && r[1] === from);
  const failed = records.filter((r) => r[0] >= fault && r[0] < firstNew[0] && r[1] !== to).length;
  return {
    gapMs: lastOld ? firstNew[0] - lastOld[0] : Number.NaN,
    afterFaultMs: firstNew[0] - fault,
    failed,
  };
}

/** Halo's own record of the last failover (status `lastFailover`), one line of phases. */
async function timeline(lab: Lab, node: string): Promise<string> {
  const g = (await lab.status(node)).groups.find((x) => x.name === 'failover') as
    | {
        lastFailover?: {
          reason?: string;
          steps?: Array<{ phase: string; node?: string; sinceStartMs: number }>;
        };
      }
    | undefined;
  const f = g?.lastFailover;
  if (!f?.steps) return 'no failover recorded';
  return `${f.reason ?? '?'}: ${f.steps.map((s) => `${s.phase}${s.node ? ` on ${s.node}` : ''} +${Math.round(s.sinceStartMs)} ms`).join(', ')}`;
}

function check(ok: unknown, what: string): asserts ok {
  if (!ok) throw new LabError(`check failed: ${what}`);
}

interface DoctorCheck {
  id: string;
  status: string;
  message: string;
  fix?: string[];
}

async function doctor(lab: Lab, node: string): Promise<{ code: number; checks: DoctorCheck[] }> {
  const r = await run(
    [
      'ip',
      'netns',
      'exec',
      lab.ns(node),
      process.execPath,
      HALO_CLI,
      'doctor',
      '-c',
      lab.configFile,
      '--node',
      node,
      '--state-dir',
      lab.stateDir(node),
      '--token-file',
      join(lab.stateDir(node), 'api.token'),
      '--json',
    ],
    { allowFail: true, timeoutMs: 30_000 },
  );
  try {
    return { code: r.code, checks: (JSON.parse(r.stdout) as { checks: DoctorCheck[] }).checks };
  } catch {
    throw new LabError(`halo doctor gave no JSON (exit ${r.code}): ${r.stderr || r.stdout}`);
  }
}

async function run003(log: Log): Promise<void> {
  const missing = awsMinioMissing();
  if (missing.length > 0) throw new LabError(`missing: ${missing.join(', ')}`);
  useFakeAwsEnv();
  process.env['AWS_DEFAULT_REGION'] = MOTO_REGION;

  // The report's cross-zone timing (2 s leases, docs/cloud-aws.md). The fast profile's 500 ms
  // leases were lost on this 2-core machine while Chromium rendered and another lab ran.
  const lab = await Lab.create({ nodes: [...NODES], timing: 'default' });
  const labMoto = new LabMoto(lab);
  const children: ChildProcess[] = [];
  let browser: import('playwright-core').Browser | null = null;
  try {
    await labMoto.start(MOTO_REGION);
    const moto: Moto = { endpoint: labMoto.endpoint, client: labMoto.client, stop: () => labMoto.stop() };
    const aws = await createLab(moto, [...NODES]);
    // The client sits in Subnet-A1, which uses Route-A (the report's rtb-0000000a).
    const clientTable = aws.routeTables[1]!;
    await moto.client.send(
      new ec2.AssociateRouteTableCommand({ RouteTableId: clientTable, SubnetId: aws.subnets[0]! }),
    );
    log(
      `1. VPC ${aws.vpcId} 10.0.0.0/16 in moto (${labMoto.endpoint}); route tables ${aws.routeTables.join(', ')}; ENIs ${NODES.map((n) => `${n}=${aws.enis[n]}`).join(', ')} (source/dest check off)`,
    );

    const share = join(lab.dir, 'fsx-share');
    const runDir = join(lab.dir, 'run');
    mkdirSync(share, { recursive: true });
    mkdirSync(runDir, { recursive: true });
    writeConfig(lab, aws, labMoto.endpoint, share, runDir);
    children.push(await startRouter(lab, labMoto, aws, clientTable));
    log(
      `2. VPC router ${SUBNET_PREFIX}.${ROUTER_HOST} forwards ${CIDR} by ${clientTable}; share ${share} seen by both nodes`,
    );

    // Chromium is launched before the agents start: its start-up takes both cores for a few
    // seconds, which fast leases on this machine would not survive. It runs in the client's
    // namespace, niced: the operator's browser does not share the nodes' CPUs in the report.
    const { chromium } = await import('playwright-core');
    const wrapper = join(lab.dir, 'chromium-in-client.sh');
    writeFileSync(wrapper, `#!/bin/sh\nexec nice -n 15 ip netns exec ${lab.ns(CLIENT)} ${CHROMIUM} "$@"\n`);
    chmodSync(wrapper, 0o755);
    browser = await chromium.launch({
      executablePath: wrapper,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-sync',
        '--no-first-run',
      ],
    });

    await lab.startWitness();
    for (const n of NODES) await lab.startAgent(n);
    const routesTo = async (node: string) => {
      const eni = aws.enis[node]!;
      await lab.waitFor(
        `all three routes → ${node} (${eni})`,
        async () => Object.values(await routesOf(moto, aws.routeTables, CIDR)).every((v) => v === eni),
        20_000,
      );
    };
    const ownedBy = async (node: string, timeoutMs = 20_000) => {
      await lab.waitFor(
        `${node} alone runs failover`,
        async () => {
          const running = await lab.runningOn('failover');
          return running.length === 1 && running[0] === node;
        },
        timeoutMs,
      );
      await routesTo(node);
    };
    await ownedBy('server1');
    for (const n of NODES)
      await lab.waitFor(`${n} out of quarantine`, async () => !(await lab.status(n)).quarantined);
    log('3. failover running on server1: 172.16.0.1/32 → server1 in all three route tables');

    // The layout the report set up by hand (VIP outside the CIDR, routes, ENIs), checked by doctor.
    const findings = await doctor(lab, 'server1');
    const aws_ = findings.checks.filter((c) => c.id.startsWith('aws-'));
    for (const c of aws_) log(`   doctor ${c.status.toUpperCase()} ${c.id}: ${c.message}`);
    const one = (id: string) => aws_.find((c) => c.id === id);
    check(
      one(`aws-credentials:${MOTO_REGION}|${labMoto.endpoint}`)?.status === 'pass',
      'doctor finds credentials',
    );
    for (const table of aws.routeTables) {
      const iam = one(`aws-iam:failover/awsvip:${table}`);
      // moto ignores DryRun: doctor must say it could not confirm, not pass nor write.
      check(
        iam && iam.status === 'warn' && /ignored DryRun/.test(iam.message),
        `doctor IAM finding on ${table}`,
      );
      const route = one(`aws-route:failover/awsvip:${table}`);
      check(
        route?.status === 'pass' && route.message.includes('server1'),
        `doctor: route in ${table} → server1`,
      );
    }
    check(one('aws-vip-cidr:failover/awsvip')?.status === 'pass', 'doctor: the VIP is outside the VPC CIDR');
    for (const n of NODES)
      check(
        one(`aws-source-dest-check:failover/awsvip:${n}`)?.status === 'pass',
        `doctor: source/dest check off on ${n}`,
      );
    await moto.client.send(
      new ec2.ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: aws.enis['server2']!,
        SourceDestCheck: { Value: true },
      }),
    );
    const broken = await doctor(lab, 'server1');
    const sdc = broken.checks.find((c) => c.id === 'aws-source-dest-check:failover/awsvip:server2');
    check(
      broken.code === 1 && sdc?.status === 'fail' && sdc.fix?.[0]?.includes('--no-source-dest-check'),
      `doctor fails the source/dest check turned on for server2 (${JSON.stringify(sdc)})`,
    );
    await moto.client.send(
      new ec2.ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: aws.enis['server2']!,
        SourceDestCheck: { Value: false },
      }),
    );
    log(
      '4. halo doctor: IAM (DryRun ignored by moto: warned, nothing written), source/dest check off on both ENIs, VIP outside 10.0.0.0/16, routes in all three tables; with the check back on for server2 it FAILs with the fix',
    );

    const s3c = await startS3Client(lab);
    children.push(s3c.child);
    const s3 = (method: string, path: string, body?: string) =>
      s3c.client.request<S3Answer>('s3', { method, path, ...(body !== undefined ? { body } : {}) });
    const bucket = await s3('PUT', '/test');
    check(bucket.status === 200, `create bucket through the VIP: HTTP ${bucket.status} ${bucket.body}`);
    const put = await s3('PUT', OBJECT, CONTENT);
    check(put.status === 200, `upload test.txt: HTTP ${put.status} ${put.body}`);
    const got1 = await s3('GET', OBJECT);
    check(got1.status === 200 && got1.body === CONTENT, `read back test.txt: HTTP ${got1.status}`);
    check(got1.servedBy === 'server1', `served by server1, not ${got1.servedBy}`);
    check(existsSync(join(share, 'test')), 'the bucket is a directory of the share');
    log(
      `5. through ${VIP}:${S3_PORT} (SigV4-signed): bucket "test" created, test.txt uploaded, read back from server1`,
    );

    // genw_minio: the stand-in killed behind Halo's back is restarted on the same node.
    const pidfile = join(runDir, 'minio.server1.pid');
    const killedPid = Number(readFileSync(pidfile, 'utf8'));
    const termBefore = (await lab.status('server1')).groups.find((g) => g.name === 'failover')?.term;
    process.kill(killedPid, 'SIGKILL');
    await lab.waitFor(
      'script_minio restarted on server1',
      async () => {
        const pid = existsSync(pidfile) ? Number(readFileSync(pidfile, 'utf8')) : 0;
        return pid > 0 && pid !== killedPid && (await s3('GET', OBJECT)).servedBy === 'server1';
      },
      15_000,
    );
    const after = (await lab.status('server1')).groups.find((g) => g.name === 'failover');
    check(
      after?.owner === 'server1' && after.term === termBefore,
      'restarted in place: same owner, same lease term',
    );
    log(
      '   genw_minio: the S3 server killed on server1 is restarted there by the monitor (restart 1), no failover',
    );

    await s3c.client.request('poll-start', { path: OBJECT, intervalMs: 20, timeoutMs: 250 });
    const polled = (since = 0) => s3c.client.request<PollRecord[]>('poll-records', { since });
    await lab.waitFor('the poller served by server1', async () =>
      (await polled()).some((r) => r[1] === 'server1'),
    );

    // The manual failover of the report, from the web UI in a real browser.
    const page = await browser.newPage();
    await page.goto(`http://${lab.address('server1')}:7400/`);
    await page.getByLabel('API token').fill(lab.token('server1'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    const owner = page.locator('[data-group="failover"] [data-testid="owner"]');
    await owner.filter({ hasText: 'server1' }).waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Move failover' }).click();
    const dialog = page.getByRole('dialog');
    const target = await dialog.getByLabel('Move to').inputValue();
    check(target === 'server2', `the move dialog offers server2 (${target})`);
    const clicked = monoMs();
    await dialog.getByRole('button', { name: 'Move group' }).click();
    await owner.filter({ hasText: 'server2' }).waitFor({ timeout: 20_000 });
    const shownMs = monoMs() - clicked;
    await browser.close();
    browser = null;
    await ownedBy('server2');
    await lab.waitFor('the client served by server2', async () =>
      (await polled(clicked)).some((r) => r[1] === 'server2'),
    );
    const move = downtime(await polled(), clicked, 'server1', 'server2');
    const got2 = await s3('GET', OBJECT);
    check(got2.status === 200 && got2.body === CONTENT, `test.txt after the move: HTTP ${got2.status}`);
    check(got2.servedBy === 'server2', `served by server2 after the move, not ${got2.servedBy}`);
    check(!existsSync(join(runDir, 'minio.server1.pid')), 'script_minio stopped on server1');
    log(
      `6. Move clicked in the web UI (owner shown as server2 after ${shownMs.toFixed(0)} ms): routes → server2, test.txt there, served by server2`,
    );
    log(
      `   downtime of the manual failover: ${move.gapMs.toFixed(0)} ms without an answer (click → first answer by server2 ${move.afterFaultMs.toFixed(0)} ms, ${move.failed} failed GETs)`,
    );
    log(`   Halo's timeline: ${await timeline(lab, 'server2')}`);

    const crashed = await lab.crashNode('server2');
    await ownedBy('server1', 30_000);
    await lab.waitFor('the client served by server1 again', async () =>
      (await polled(crashed)).some((r) => r[1] === 'server1'),
    );
    const crash = downtime(await polled(), crashed, 'server2', 'server1');
    await s3c.client.request('poll-stop');
    const got3 = await s3('GET', OBJECT);
    check(got3.status === 200 && got3.body === CONTENT, `test.txt after the crash: HTTP ${got3.status}`);
    check(got3.servedBy === 'server1', `served by server1 after the crash, not ${got3.servedBy}`);
    log('7. server2 crashed (link down, every process killed): routes → server1, test.txt served by server1');
    log(
      `   downtime of the crash failover: ${crash.gapMs.toFixed(0)} ms without an answer (crash → first answer by server1 ${crash.afterFaultMs.toFixed(0)} ms, ${crash.failed} failed GETs)`,
    );
    log(`   Halo's timeline: ${await timeline(lab, 'server1')}`);
  } catch (err) {
    for (const n of NODES) {
      const st = await lab.status(n).catch(() => undefined);
      if (st) log(`--- status of ${n}: ${JSON.stringify(st).slice(0, 4000)}`);
    }
    for (const name of [...NODES.map((n) => `agent-${n}`), 'witness', 'vpc-router', 's3-client'])
      log(`--- ${name} (last lines)\n${lab.logs(name).split('\n').slice(-20).join('\n')}`);
    log(`--- all logs kept in ${lab.keepLogs()}`);
    throw err;
  } finally {
    await browser?.close().catch(() => undefined);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await labMoto.stop();
    await lab.cleanup();
  }
}

export const scenario: Scenario = {
  name: 'aws-minio',
  title: 'CLUSTERPRO X on AWS: MinIO on a shared share behind a route-table VIP',
  run: run003,
};
