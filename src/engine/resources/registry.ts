import { awsEipResource } from './aws-eip/index.js';
import { awsRouteVipResource } from './aws-route-vip/index.js';
import { awsSecondaryIpResource } from './aws-secondary-ip/index.js';
import { dnsResource } from './dns/index.js';
import { filesystemResource } from './filesystem/index.js';
import { ipResource } from './ip/index.js';
import { lbProbeResource } from './lb-probe/index.js';
import { ocfResource } from './ocf/index.js';
import { processResource } from './process/index.js';
import { scriptResource } from './script/index.js';
import type { ResourcePlugin } from './types.js';

/**
 * Every built-in resource plugin, in the order docs/configuration.md lists them. The one list:
 * the config validator, the JSON Schema and the docs get the specs from here (through the
 * engine's config catalog), the agent gets the implementations. Listed by hand on purpose:
 * adding a type is a visible change.
 */
export const builtinResources: readonly ResourcePlugin[] = [
  scriptResource,
  processResource,
  ipResource,
  awsRouteVipResource,
  awsEipResource,
  awsSecondaryIpResource,
  lbProbeResource,
  dnsResource,
  ocfResource,
  filesystemResource,
];

/** The built-in plugins by their `type` key (a test checks no two share one). */
export const resourceTypes: ReadonlyMap<string, ResourcePlugin> = new Map(
  builtinResources.map((plugin) => [plugin.type, plugin]),
);
