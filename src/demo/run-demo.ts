import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { HaloError } from '../errors.js';
import { demoBanner } from './banner.js';
import { DemoCluster, killTaggedNow } from './demo-cluster.js';
import { DEMO_GROUP, DEMO_NODES, type DemoLayout, type DemoNode, demoConfig } from './demo-config.js';
import { freePorts } from './free-ports.js';
import { StandInLoadBalancer } from './load-balancer.js';

export interface RunDemoOptions {
  timing: 'fast' | 'default';
  /** Pause before a killed agent is started again; null = leave it down. */
  restartAfterMs: number | null;
  /** Aborted by Ctrl-C / SIGTERM: stop everything and clean up. */
  signal: AbortSignal;
  out: (text: string) => void;
}

const READY_TIMEOUT_MS = 60_000;

/**
 * `halo demo`: builds a throw-away cluster in a temp dir, runs it until the signal aborts,
 * then stops every process and removes the dir. Returns the exit code.
 */
export async function runDemo(opts: RunDemoOptions): Promise<number> {
  const say = (line: string) => opts.out(`${line}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'halo-demo-'));
  const tag = randomUUID();
  let cluster: DemoCluster | null = null;
  let lb: StandInLoadBalancer | null = null;
  // The agents run in process groups of their own, so a forced exit (Ctrl-C a third time
  // during the orderly stop) would leave them and their services running: kill them here.
  const forcedExit = () => {
    killTaggedNow(tag);
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  };
  process.once('exit', forcedExit);
  try {
    const layout = await prepare(dir, opts.timing);
    const configFile = join(dir, 'halo.yaml');
    writeFileSync(configFile, stringify(demoConfig(layout)));
    mkdirSync(join(dir, 'logs'));
    say(`halo demo: starting a witness and agents ${DEMO_NODES.join(', ')} on 127.0.0.1 (${dir})`);

    cluster = new DemoCluster({
      dir,
      configFile,
      tag,
      nodes: DEMO_NODES,
      restartAfterMs: opts.restartAfterMs,
      say,
    });
    const c = cluster;
    // All at once: agents retry until the witness answers, and each process needs a moment
    // to load, so starting them in parallel is what keeps the demo's startup short.
    await Promise.all([c.startWitness(), ...DEMO_NODES.map((n) => c.startAgent(n))]);

    let announced = false;
    lb = new StandInLoadBalancer({
      host: '127.0.0.1',
      port: 0,
      backends: DEMO_NODES.map((n) => ({
        name: n,
        probePort: layout.ports.probe[n],
        servicePort: layout.ports.s3[n],
      })),
      onChange: (healthy) => {
        if (!announced) return;
        say(
          healthy.length > 0
            ? `stand-in load balancer: probe port open on ${healthy.join(', ')}; new connections go there`
            : 'stand-in load balancer: no probe port open; new connections are dropped',
        );
      },
    });
    await lb.start();

    const balancer = lb;
    const owner = await waitFor(
      () => balancer.healthyBackends()[0],
      opts.signal,
      READY_TIMEOUT_MS,
      `group ${DEMO_GROUP} did not come up; see the logs in ${join(dir, 'logs')}`,
    );
    if (owner === undefined) return 0;
    announced = true;
    opts.out(
      demoBanner({
        dir,
        configFile,
        layout,
        lbPort: balancer.port,
        token: readFileSync(layout.tokenFile, 'utf8').trim(),
        pids: Object.fromEntries([...DEMO_NODES, 'witness'].map((n) => [n, cluster?.pid(n) ?? 0])) as Record<
          DemoNode | 'witness',
          number
        >,
        owner,
        logDir: join(dir, 'logs'),
        restartAfterMs: opts.restartAfterMs,
      }),
    );
    say(`halo demo is ready: ${DEMO_GROUP} runs on ${owner}. Press Ctrl-C to stop and clean up.`);
    await new Promise<void>((resolve) => {
      if (opts.signal.aborted) resolve();
      opts.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    return 0;
  } finally {
    say('halo demo: stopping the load balancer, the agents and the witness');
    await lb?.stop();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
    process.off('exit', forcedExit);
    say(`halo demo: stopped; ${dir} removed`);
  }
}

async function prepare(dir: string, timing: 'fast' | 'default'): Promise<DemoLayout> {
  const [witness, p1, p2, a1, a2, s1, s2, q1, q2] = (await freePorts(9)) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const keyFile = join(dir, 'cluster.key');
  const tokenFile = join(dir, 'api.token');
  writeFileSync(keyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  writeFileSync(tokenFile, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
  return {
    dir,
    keyFile,
    tokenFile,
    dataDir: join(dir, 'shared-data'),
    timing,
    ports: {
      witness,
      peer: { n1: p1, n2: p2 },
      api: { n1: a1, n2: a2 },
      s3: { n1: s1, n2: s2 },
      probe: { n1: q1, n2: q2 },
    },
  };
}

/** Polls until `probe` returns a value; undefined when the signal aborts first. */
async function waitFor<T>(
  probe: () => T | undefined,
  signal: AbortSignal,
  timeoutMs: number,
  failure: string,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (!signal.aborted) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new HaloError('HALO_E_TIMEOUT', failure);
    await sleep(100);
  }
  return undefined;
}
