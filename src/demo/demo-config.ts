import { fileURLToPath } from 'node:url';
import { formatPortMap } from './node-ports.js';

/** The demo's nodes, in preference order. */
export const DEMO_NODES = ['n1', 'n2'] as const;
export type DemoNode = (typeof DEMO_NODES)[number];
export const DEMO_GROUP = 'store';
export const DEMO_BUCKET = 'demo';

export interface DemoPorts {
  witness: number;
  peer: Record<DemoNode, number>;
  api: Record<DemoNode, number>;
  s3: Record<DemoNode, number>;
  probe: Record<DemoNode, number>;
}

export interface DemoLayout {
  dir: string;
  keyFile: string;
  tokenFile: string;
  dataDir: string;
  timing: 'fast' | 'default';
  ports: DemoPorts;
}

const script = (name: string) => fileURLToPath(new URL(name, import.meta.url));

/**
 * The demo cluster's halo.yaml as an object: two agents and a witness on 127.0.0.1 and one
 * group `store` — s3rver on a data directory both nodes share (as MinIO on an FSx share in
 * docs/cloud-aws.md), then an lb-probe gated by a monitor that asks s3rver for its bucket
 * list (the probe port an Azure internal load balancer checks, docs/cloud-azure.md). Identical for every node, as a real config must be.
 */
export function demoConfig(layout: DemoLayout): Record<string, unknown> {
  const { ports } = layout;
  const s3Ports = formatPortMap(ports.s3);
  const check = [process.execPath, script('s3-check.js'), '--ports', s3Ports];
  return {
    cluster: {
      name: 'halo-demo',
      secretFile: layout.keyFile,
      timing: layout.timing,
      api: { host: '127.0.0.1', tokenFile: layout.tokenFile },
    },
    nodes: Object.fromEntries(
      DEMO_NODES.map((n) => [n, { address: '127.0.0.1', peerPort: ports.peer[n], apiPort: ports.api[n] }]),
    ),
    witness: { address: '127.0.0.1', port: ports.witness },
    groups: {
      [DEMO_GROUP]: {
        nodes: [...DEMO_NODES],
        resources: {
          s3: {
            type: 'process',
            command: [
              process.execPath,
              script('s3-serve.js'),
              '--directory',
              layout.dataDir,
              '--bucket',
              DEMO_BUCKET,
              '--ports',
              s3Ports,
            ],
            readyCheck: check,
            timeout: { start: '30s', stop: '5s' },
          },
          probe: {
            type: 'lb-probe',
            after: ['s3'],
            // One port per node only because all nodes share 127.0.0.1 here; on real
            // machines every node uses the same probePort (e.g. 59999) on its own address.
            probePort: ports.probe.n1,
            probePortByNode: ports.probe,
            host: '127.0.0.1',
            mode: 'tcp',
            healthGate: ['s3_answers'],
          },
        },
        monitors: {
          s3_answers: {
            type: 'script',
            target: 's3',
            command: check,
            interval: '1s',
            timeout: '3s',
            retries: 1,
            onFailure: { restart: 1, then: 'failover' },
          },
        },
      },
    },
  };
}
