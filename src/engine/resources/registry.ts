import { lbProbeResource } from './lb-probe/index.js';
import { processResource } from './process/index.js';
import { scriptResource } from './script/index.js';
import type { ResourceType } from './types.js';

/** Every built-in resource type, by its `type` key. Listed by hand: adding a type is a visible change. */
export const resourceTypes: ReadonlyMap<string, ResourceType> = new Map<string, ResourceType>(
  [scriptResource, processResource, lbProbeResource].map((type) => [type.type, type]),
);
