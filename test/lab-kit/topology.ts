/**
 * Who is where in a lab: names, namespaces, bridge ports and addresses. Pure, so the address
 * plan is easy to read and test. Everything sits in 10.213.0.0/24, a range kept for the lab
 * alone and used only inside the lab's own namespaces, never in the root namespace.
 */

export type MemberRole = 'node' | 'witness' | 'client' | 'switch';

export interface Member {
  name: string;
  role: MemberRole;
  ns: string;
  /** Bridge port in the switch namespace (the member's cable). */
  port: string;
  /** IPv4 address on the member's eth0 ('' for the switch). */
  address: string;
}

export const SUBNET_PREFIX = '10.213.0';
export const SWITCH = 'sw';
export const WITNESS = 'w';
export const CLIENT = 'c';

export function planTopology(prefix: string, nodes: readonly string[], witness: boolean): Member[] {
  if (nodes.length === 0 || nodes.length > 50) throw new Error('a lab has 1 to 50 nodes');
  const reserved = new Set([SWITCH, WITNESS, CLIENT]);
  const members: Member[] = [
    { name: SWITCH, role: 'switch', ns: `${prefix}${SWITCH}`, port: '', address: '' },
  ];
  nodes.forEach((name, i) => {
    if (reserved.has(name) || !/^[a-z0-9][a-z0-9-]{0,7}$/.test(name))
      throw new Error(`lab node name "${name}": expected 1–8 of [a-z0-9-], not sw/w/c`);
    members.push({
      name,
      role: 'node',
      ns: `${prefix}${name}`,
      port: `p-${name}`,
      address: `${SUBNET_PREFIX}.${11 + i}`,
    });
  });
  if (witness)
    members.push({
      name: WITNESS,
      role: 'witness',
      ns: `${prefix}${WITNESS}`,
      port: `p-${WITNESS}`,
      address: `${SUBNET_PREFIX}.5`,
    });
  members.push({
    name: CLIENT,
    role: 'client',
    ns: `${prefix}${CLIENT}`,
    port: `p-${CLIENT}`,
    address: `${SUBNET_PREFIX}.100`,
  });
  return members;
}
