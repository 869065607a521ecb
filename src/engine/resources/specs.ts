import type { z } from 'zod';
import { awsEipParams } from './aws-eip/params.js';
import { awsRouteVipParams } from './aws-route-vip/params.js';
import { awsSecondaryIpParams } from './aws-secondary-ip/params.js';
import { dnsParams } from './dns/params.js';
import { ipParams } from './ip/params.js';
import { lbProbeParams } from './lb-probe/params.js';
import { processParams } from './process/params.js';
import { scriptParams } from './script/params.js';

/**
 * The schema side of every resource type: what the config validator, the JSON Schema and
 * docs/configuration.md need, without loading any implementation. Adding a type = a folder
 * with params.ts + index.ts, a line here and a line in registry.ts (a test keeps both lists equal).
 */
export interface ResourceSpec {
  description: string;
  params: z.ZodObject;
  /** Params whose values must be unique across all groups (e.g. a VIP or probe port). */
  uniqueAcrossGroups?: string[];
  /** Map params keyed by node name (e.g. an ENI per node): each key must be a node of the group. */
  nodeKeyed?: string[];
  /** List params naming monitors of the same group (e.g. a health gate). */
  monitorLists?: string[];
}

export const resourceSpecs: ReadonlyMap<string, ResourceSpec> = new Map<string, ResourceSpec>([
  ['script', { description: 'Start/stop/check commands (OCF-like script resource).', params: scriptParams }],
  ['process', { description: 'A long-running program supervised by the agent.', params: processParams }],
  [
    'ip',
    {
      description: 'A floating IP on a Linux interface, announced with gratuitous ARP / unsolicited NA.',
      params: ipParams,
      uniqueAcrossGroups: ['ip'],
    },
  ],
  [
    'aws-route-vip',
    {
      description: 'A VIP outside the VPC CIDR, routed to the active node by rewriting VPC route tables.',
      params: awsRouteVipParams,
      uniqueAcrossGroups: ['ip'],
      nodeKeyed: ['eni'],
    },
  ],
  [
    'aws-eip',
    {
      description: 'An Elastic IP moved to the active node’s ENI (AssociateAddress with AllowReassociation).',
      params: awsEipParams,
      uniqueAcrossGroups: ['allocationId'],
    },
  ],
  [
    'aws-secondary-ip',
    {
      description: 'A secondary private IP moved to the active node’s ENI and held locally.',
      params: awsSecondaryIpParams,
      uniqueAcrossGroups: ['ip'],
    },
  ],
  [
    'lb-probe',
    {
      description: 'Listens on a load-balancer probe port only while the group is active and healthy here.',
      params: lbProbeParams,
      uniqueAcrossGroups: ['probePort'],
      nodeKeyed: ['probePortByNode'],
      monitorLists: ['healthGate'],
    },
  ],
  [
    'dns',
    {
      description:
        'Points a DNS name at the active node through an RFC 2136 dynamic update signed with TSIG.',
      params: dnsParams,
      uniqueAcrossGroups: ['name'],
      nodeKeyed: ['addresses'],
    },
  ],
]);
