import { awsEipResource } from './aws-eip/index.js';
import { awsRouteVipResource } from './aws-route-vip/index.js';
import { awsSecondaryIpResource } from './aws-secondary-ip/index.js';
import { dnsResource } from './dns/index.js';
import { ipResource } from './ip/index.js';
import { lbProbeResource } from './lb-probe/index.js';
import { processResource } from './process/index.js';
import { scriptResource } from './script/index.js';
import type { ResourceType } from './types.js';

/** Every built-in resource type, by its `type` key. Listed by hand: adding a type is a visible change. */
export const resourceTypes: ReadonlyMap<string, ResourceType> = new Map<string, ResourceType>(
  [
    scriptResource,
    processResource,
    lbProbeResource,
    ipResource,
    awsRouteVipResource,
    awsEipResource,
    awsSecondaryIpResource,
    dnsResource,
  ].map((type) => [type.type, type]),
);
