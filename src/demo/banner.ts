import { DEMO_BUCKET, DEMO_GROUP, DEMO_NODES, type DemoLayout, type DemoNode } from './demo-config.js';

export interface BannerFacts {
  dir: string;
  configFile: string;
  layout: DemoLayout;
  lbPort: number;
  token: string;
  pids: Record<DemoNode | 'witness', number>;
  owner: string;
  logDir: string;
  restartAfterMs: number | null;
}

/** What `halo demo` prints once the cluster is up: where things are and what to try. */
export function demoBanner(f: BannerFacts): string {
  const { ports } = f.layout;
  const api = (n: DemoNode) => `http://127.0.0.1:${ports.api[n]}`;
  const cli = `--api ${api('n1')} --token-file ${f.layout.tokenFile}`;
  const s3 = `http://127.0.0.1:${f.lbPort}`;
  const other = DEMO_NODES.find((n) => n !== f.owner) ?? 'n2';
  const lines = [
    '',
    `Cluster "halo-demo" (timing: ${f.layout.timing}) — config ${f.configFile}`,
    ...DEMO_NODES.map(
      (n) =>
        `  agent ${n}   pid ${f.pids[n]}   web UI + API ${api(n)}/   s3rver port ${ports.s3[n]}   probe port ${ports.probe[n]}`,
    ),
    `  witness    pid ${f.pids.witness}   udp port ${ports.witness}`,
    `  API token  ${f.token}   (file ${f.layout.tokenFile})`,
    `  logs       ${f.logDir}/{witness,${DEMO_NODES.join(',')}}.log`,
    `  shared S3 data directory (both nodes serve it, one at a time): ${f.layout.dataDir}`,
    '',
    `Group "${DEMO_GROUP}": s3rver (process resource) + lb-probe on a per-node probe port, gated by monitor s3_answers.`,
    `STAND-IN load balancer (plays the cloud LB; not part of Halo): ${s3}`,
    "  it probes each node's probe port every 200 ms and forwards new connections to the node whose port is open.",
    '',
    `S3 endpoint: ${s3}   access key S3RVER   secret key S3RVER   (path-style; bucket "${DEMO_BUCKET}" exists)`,
    `  curl -X PUT --data-binary 'hello' ${s3}/${DEMO_BUCKET}/hello.txt`,
    `  curl ${s3}/${DEMO_BUCKET}/hello.txt`,
    `  aws --endpoint-url ${s3} s3 ls s3://${DEMO_BUCKET}   (with AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER)`,
    '',
    'Try (in another terminal, from the repository):',
    `  npx halo status ${cli}`,
    `  npx halo move ${DEMO_GROUP} ${other} ${cli}`,
    `  npx halo events --follow ${cli}`,
    `  kill -9 ${f.pids[f.owner as DemoNode] ?? "<pid of the owner's agent>"}    # the owner's agent (${f.owner}); its deadman helper stops s3rver, the other node takes over`,
    f.restartAfterMs === null
      ? '  (killed agents stay down)'
      : `  (a killed agent is started again after ${f.restartAfterMs / 1000} s; the group stays where it moved)`,
    `  or export HALO_API=${api('n1')} HALO_TOKEN=${f.token} and drop the flags.`,
    '',
  ];
  return `${lines.join('\n')}\n`;
}
