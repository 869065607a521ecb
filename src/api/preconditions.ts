import { HaloError } from '../errors.js';

/**
 * Checks the API makes before an admin request turns into intent, so that a request that
 * cannot be carried out fails at once with 409 instead of being accepted and ignored.
 *
 * 409 HALO_E_CONFLICT (the request is well-formed, the cluster state does not allow it):
 * - the target node is not one of the group's nodes;
 * - the target node is down or ineligible as this node sees it, or in standby;
 * - `move` to the node that already runs the group.
 * 404 HALO_E_NOT_FOUND: the group does not exist.
 */

export interface TargetCheck {
  verb: 'move' | 'start';
  group: string;
  /** The group's nodes from the config; undefined when there is no such group. */
  groupNodes: string[] | undefined;
  target: string;
  owner: string | null;
  nodes: Array<{ name: string; up: boolean; eligible: boolean; reasons: string[]; standby?: boolean }>;
}

export function checkTarget(c: TargetCheck): void {
  if (!c.groupNodes) throw new HaloError('HALO_E_NOT_FOUND', `no group ${c.group}`, { group: c.group });
  const details = { group: c.group, node: c.target, nodes: c.groupNodes };
  if (!c.groupNodes.includes(c.target)) {
    throw new HaloError(
      'HALO_E_CONFLICT',
      `node ${c.target} is not one of the nodes of group ${c.group} (${c.groupNodes.join(', ')})`,
      details,
    );
  }
  const node = c.nodes.find((n) => n.name === c.target);
  if (!node?.up) {
    throw new HaloError(
      'HALO_E_CONFLICT',
      `cannot ${c.verb} ${c.group} to ${c.target}: the node is down; start its agent or pick another node`,
      details,
    );
  }
  if (!node.eligible) {
    throw new HaloError(
      'HALO_E_CONFLICT',
      `cannot ${c.verb} ${c.group} to ${c.target}: the node is ineligible (${node.reasons.join('; ') || 'node monitor failing'})`,
      { ...details, reasons: node.reasons },
    );
  }
  if (node.standby) {
    throw new HaloError(
      'HALO_E_CONFLICT',
      `cannot ${c.verb} ${c.group} to ${c.target}: the node is in standby; \`halo node unstandby ${c.target}\` first`,
      details,
    );
  }
  if (c.verb === 'move' && c.owner === c.target) {
    throw new HaloError('HALO_E_CONFLICT', `group ${c.group} already runs on ${c.target}`, details);
  }
}
