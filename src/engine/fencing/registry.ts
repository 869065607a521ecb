import type { FenceDeviceConfig } from '../../config/model.js';
import { awsFenceDevice } from './aws-device.js';
import { commandFenceDevice } from './command-device.js';
import type { FenceDevice, FenceDeviceContext } from './types.js';

/** The built-in fence devices, listed by hand (STYLE.md: plugins are plain objects). */
export function createFenceDevice(config: FenceDeviceConfig, ctx: FenceDeviceContext): FenceDevice {
  switch (config.type) {
    case 'aws':
      return awsFenceDevice(config, ctx);
    case 'command':
      return commandFenceDevice(config, ctx);
  }
}
