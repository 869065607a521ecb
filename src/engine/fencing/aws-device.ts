import { setTimeout as sleep } from 'node:timers/promises';
import { type Ec2InstanceApi, type Ec2Settings, sdkEc2InstanceApi } from '../../cloud/aws/ec2-api.js';
import type { FenceDeviceConfig } from '../../config/model.js';
import type { FenceDevice, FenceDeviceContext } from './types.js';

type AwsDeviceConfig = Extract<FenceDeviceConfig, { type: 'aws' }>;

/** States in which the instance runs nothing any more (EC2 instance lifecycle). */
const OFF = new Set(['stopped', 'terminated']);

/**
 * The `aws` fence device: StopInstances with Force=true on the node's instance (a forced stop
 * skips the OS shutdown, which a hung or cut-off instance may never finish), then
 * DescribeInstances every `pollInterval` until the instance is `stopped` (or `terminated`).
 * Every call is bounded by `callTimeout` (retries of transient errors included) and the whole
 * fence by the caller's signal. Credentials come from the SDK's default chain, as for the
 * aws-* resources; nothing here logs them.
 */
export function awsFenceDevice(
  config: AwsDeviceConfig,
  ctx: FenceDeviceContext,
  api: (settings: Ec2Settings) => Ec2InstanceApi = sdkEc2InstanceApi,
): FenceDevice {
  const ec2 = api({
    region: config.region,
    endpoint: config.endpoint,
    callTimeoutMs: config.callTimeoutMs,
    log: ctx.log,
  });
  return {
    async fence(node, signal) {
      const id = config.instances[node];
      if (id === undefined) throw new Error(`no instance id for node ${node} in the aws fence device`);
      const first = await ec2.forceStop(id, signal);
      ctx.log.info({ node, instance: id, state: first }, 'fence: StopInstances (Force) accepted');
      for (;;) {
        const state = await ec2.instanceState(id, signal);
        if (state === undefined) throw new Error(`EC2 does not know instance ${id} of node ${node}`);
        if (OFF.has(state)) return { detail: `instance ${id} is ${state}` };
        await sleep(config.pollIntervalMs, undefined, { signal }).catch(() => {
          throw new Error(`instance ${id} of node ${node} was still ${state} when the fence timed out`);
        });
      }
    },
  };
}
