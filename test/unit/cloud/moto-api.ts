import { spawnSync } from 'node:child_process';
import { after } from 'node:test';
import { closeEc2Clients, type Ec2Api, sdkEc2Api } from '../../../src/cloud/aws/ec2-api.js';
import { type AwsLab, createLab, MOTO_REGION, type Moto, startMoto } from '../../support/moto.js';

/**
 * One moto_server per test file, started by the first test that asks for it, and Halo's real
 * EC2 client (sdkEc2Api) pointed at it. Stopped when the file's tests end.
 */

export const MOTO_MISSING = 'moto_server (pip install "moto[server]")';

export function motoAvailable(): boolean {
  return spawnSync('sh', ['-c', 'command -v moto_server'], { stdio: 'ignore' }).status === 0;
}

const hooks: Array<() => unknown> = [];
let started: Promise<Moto> | undefined;
after(async () => {
  closeEc2Clients();
  for (const fn of hooks.reverse()) await fn();
});

export interface MotoEc2 {
  moto: Moto;
  api: Ec2Api;
  /** A fresh VPC with three route tables and an ENI per node. */
  lab(nodes?: string[]): Promise<AwsLab>;
}

export async function motoEc2(): Promise<MotoEc2> {
  started ??= startMoto({ after: (fn) => hooks.push(fn) });
  const moto = await started;
  const api = sdkEc2Api({ endpoint: moto.endpoint, region: MOTO_REGION, callTimeoutMs: 15_000 });
  return { moto, api, lab: (nodes = ['n1', 'n2', 'other']) => createLab(moto, nodes) };
}
