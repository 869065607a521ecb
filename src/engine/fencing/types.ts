import type { FenceDeviceConfig } from '../../config/model.js';
import type { Logger } from '../../log.js';

/**
 * The fence device contract: power a node off from outside and confirm it. Plain objects,
 * one per group; the engine bounds each call with the group's `stonith.timeout` through
 * `signal`, so a device must stop waiting (and reject) when the signal fires.
 */
export interface FenceDevice {
  /**
   * Powers `node` off and resolves only once the device reports it off (an EC2 instance
   * `stopped`, a fence agent's status `OFF`). Rejects with a message that tells the operator
   * what failed. Never logs or returns a secret.
   */
  fence(node: string, signal: AbortSignal): Promise<{ detail: string }>;
}

export interface FenceDeviceContext {
  group: string;
  log: Logger;
}

export type FenceDeviceFactory<C extends FenceDeviceConfig = FenceDeviceConfig> = (
  config: C,
  ctx: FenceDeviceContext,
) => FenceDevice;
