import type { ConfigCatalog } from './catalog.js';
import type { ConfigProblem } from './problems.js';

/**
 * Checks that span several keys (references, cycles, uniqueness, cluster shape). They run on
 * the parsed YAML even when the schema found problems, so one pass reports everything; every
 * access is therefore defensive.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const entries = (v: unknown): Array<[string, unknown]> => (isObj(v) ? Object.entries(v) : []);
const strings = (v: unknown): Array<[number, string]> =>
  Array.isArray(v) ? v.flatMap((x, i) => (typeof x === 'string' ? [[i, x] as [number, string]] : [])) : [];

export function crossCheck(
  raw: unknown,
  catalog: Pick<ConfigCatalog, 'resources' | 'monitors'>,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (path: Array<string | number>, message: string) => problems.push({ path, message });
  if (!isObj(raw)) return problems;

  const nodes = entries(raw['nodes']);
  const nodeNames = new Set(nodes.map(([n]) => n));
  const cluster = isObj(raw['cluster']) ? raw['cluster'] : {};
  const coordination = isObj(cluster['coordination']) ? cluster['coordination'] : { type: 'embedded' };
  const hasWitness = raw['witness'] !== undefined;

  if (isObj(raw['nodes']) && nodes.length === 0) add(['nodes'], 'expected at least one node');
  for (const [n] of nodes)
    if (n === 'witness') add(['nodes', n], '"witness" is reserved for the witness; pick another node name');
  checkEndpoints(raw, add);

  if (coordination['type'] === 'etcd') {
    if (hasWitness)
      add(['witness'], 'no witness in etcd mode: the etcd cluster provides the quorum; remove this key');
  } else if (nodes.length > 0) {
    const weights = nodes.map(([, v]) => (isObj(v) && typeof v['weight'] === 'number' ? v['weight'] : 1));
    const total = weights.reduce((a, b) => a + b, 0) + (hasWitness ? 1 : 0);
    if (nodes.length === 2 && !hasWitness && cluster['unsafe'] !== true) {
      add(
        ['witness'],
        'a two-node cluster needs a witness to survive losing either node safely; add `witness: { address, port }` (or set cluster.unsafe: true and accept split brain)',
      );
    } else if (nodes.length > 2 && total % 2 === 0 && cluster['unsafe'] !== true) {
      add(
        ['nodes'],
        `the votes add up to ${total}, an even number: add a witness or give one node weight: 2`,
      );
    }
  }

  const uniques = new Map<string, Array<string | number>>();
  for (const [g, group] of entries(raw['groups'])) {
    if (!isObj(group)) continue;
    for (const [i, n] of strings(group['nodes'])) {
      if (!nodeNames.has(n))
        add(['groups', g, 'nodes', i], `unknown node "${n}"; expected one of: ${[...nodeNames].join(', ')}`);
    }
    const listed = strings(group['nodes']).map(([, n]) => n);
    if (new Set(listed).size !== listed.length) add(['groups', g, 'nodes'], 'a node is listed twice');

    const resources = entries(group['resources']);
    const resourceNames = new Set(resources.map(([r]) => r));
    for (const [r, res] of resources) {
      if (!isObj(res)) continue;
      for (const [i, dep] of strings(res['after'])) {
        if (dep === r) add(['groups', g, 'resources', r, 'after', i], 'a resource cannot come after itself');
        else if (!resourceNames.has(dep))
          add(['groups', g, 'resources', r, 'after', i], `unknown resource "${dep}" in group ${g}`);
      }
      const spec = typeof res['type'] === 'string' ? catalog.resources.get(res['type']) : undefined;
      const groupNodes = new Set(strings(group['nodes']).map(([, n]) => n));
      for (const key of spec?.nodeKeyed ?? []) {
        for (const [n] of entries(res[key])) {
          if (!groupNodes.has(n))
            add(['groups', g, 'resources', r, key, n], `"${n}" is not a node of group ${g}`);
        }
      }
      const monitorNames = new Set(entries(group['monitors']).map(([m]) => m));
      for (const key of spec?.monitorLists ?? []) {
        for (const [i, m] of strings(res[key])) {
          if (!monitorNames.has(m))
            add(['groups', g, 'resources', r, key, i], `unknown monitor "${m}" in group ${g}`);
        }
      }
      for (const key of spec?.uniqueAcrossGroups ?? []) {
        const value = res[key];
        if (value === undefined) continue;
        const id = `${key}=${String(value)}`;
        const first = uniques.get(id);
        if (first && first[1] !== g) {
          add(
            ['groups', g, 'resources', r, key],
            `${key} ${String(value)} is already used by ${first.join('.')}; each must belong to one group`,
          );
        } else if (!first) uniques.set(id, ['groups', g, 'resources', r]);
      }
    }
    for (const cycle of findCycles(resources)) {
      add(
        ['groups', g, 'resources', cycle[0]!, 'after'],
        `dependency cycle: ${[...cycle, cycle[0]].join(' → ')}`,
      );
    }
    for (const [m, mon] of entries(group['monitors']))
      checkMonitor(['groups', g, 'monitors', m], mon, resourceNames, catalog, add);
    checkStonith(g, group, add);
  }
  for (const [m, mon] of entries(raw['monitors']))
    checkMonitor(['monitors', m], mon, undefined, catalog, add);
  return problems;
}

function checkEndpoints(raw: Obj, add: (path: Array<string | number>, message: string) => void) {
  const seen = new Map<string, string>();
  for (const [n, node] of entries(raw['nodes'])) {
    if (!isObj(node) || typeof node['address'] !== 'string') continue;
    const id = `${node['address']}:${typeof node['peerPort'] === 'number' ? node['peerPort'] : 7401}`;
    const other = seen.get(id);
    if (other)
      add(
        ['nodes', n, 'peerPort'],
        `${id} is already used by node ${other}; give each node its own address or peerPort`,
      );
    else seen.set(id, n);
  }
}

function checkMonitor(
  path: string[],
  mon: unknown,
  resourceNames: Set<string> | undefined,
  catalog: Pick<ConfigCatalog, 'monitors'>,
  add: (path: Array<string | number>, message: string) => void,
) {
  if (!isObj(mon)) return;
  const spec = typeof mon['type'] === 'string' ? catalog.monitors.get(mon['type']) : undefined;
  const target = mon['target'];
  if (resourceNames === undefined) {
    if (target !== undefined)
      add([...path, 'target'], 'node-level monitors have no target; move the monitor into a group');
    const action = isObj(mon['onFailure']) ? mon['onFailure']['then'] : mon['onFailure'];
    if (action === 'failover')
      add(
        [...path, 'onFailure'],
        'node-level monitors cannot fail a group over; use ineligible, alert or none',
      );
    if (
      isObj(mon['onFailure']) &&
      typeof mon['onFailure']['restart'] === 'number' &&
      mon['onFailure']['restart'] > 0
    ) {
      add([...path, 'onFailure', 'restart'], 'node-level monitors have no target to restart');
    }
    if (spec?.target === 'always')
      add(
        [...path, 'type'],
        `a ${String(mon['type'])} monitor needs a target resource, so it must be a group monitor`,
      );
    return;
  }
  if (typeof target === 'string' && !resourceNames.has(target)) {
    add(
      [...path, 'target'],
      `unknown resource "${target}"; expected one of: ${[...resourceNames].join(', ') || '(none)'}`,
    );
  }
  if (target === undefined && spec?.target === 'always')
    add([...path, 'target'], `a ${String(mon['type'])} monitor needs a target resource`);
  if (target !== undefined && spec?.target === 'never')
    add([...path, 'target'], `a ${String(mon['type'])} monitor has no target`);
  const action = isObj(mon['onFailure']) ? mon['onFailure']['then'] : mon['onFailure'];
  if (action === 'ineligible')
    add(
      [...path, 'onFailure'],
      'ineligible applies to node-level monitors; a group monitor uses failover, alert or none',
    );
  if (
    isObj(mon['onFailure']) &&
    typeof mon['onFailure']['restart'] === 'number' &&
    mon['onFailure']['restart'] > 0 &&
    target === undefined
  ) {
    add([...path, 'onFailure', 'restart'], 'restart needs a target resource to restart');
  }
}

/** Each dependency cycle once, as the list of resource names on it. */
function findCycles(resources: Array<[string, unknown]>): string[][] {
  const deps = new Map<string, string[]>();
  for (const [r, res] of resources) deps.set(r, isObj(res) ? strings(res['after']).map(([, d]) => d) : []);
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (r: string) => {
    state.set(r, 'visiting');
    stack.push(r);
    for (const d of deps.get(r) ?? []) {
      if (!deps.has(d) || d === r) continue;
      if (state.get(d) === 'visiting') cycles.push(stack.slice(stack.indexOf(d)));
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(r, 'done');
  };
  for (const r of deps.keys()) if (!state.has(r)) visit(r);
  return cycles;
}

/** `fencing: stonith` needs a device that can reach every node of the group, and only then. */
function checkStonith(g: string, group: Obj, add: (path: Array<string | number>, message: string) => void) {
  const stonith = group['stonith'];
  if (group['fencing'] !== 'stonith') {
    if (stonith !== undefined)
      add(
        ['groups', g, 'stonith'],
        'stonith is used only with fencing: stonith; set that or remove this key',
      );
    return;
  }
  if (!isObj(stonith)) {
    if (stonith === undefined)
      add(['groups', g, 'stonith'], 'fencing: stonith needs a stonith block with a device (docs/fencing.md)');
    return;
  }
  const device = isObj(stonith['device']) ? stonith['device'] : {};
  const groupNodes = strings(group['nodes']).map(([, n]) => n);
  const key = device['type'] === 'aws' ? 'instances' : device['type'] === 'command' ? 'nodes' : null;
  if (key !== null) {
    const map = isObj(device[key]) ? device[key] : null;
    if (map !== null) {
      for (const n of groupNodes)
        if (!(n in map))
          add(
            ['groups', g, 'stonith', 'device', key, n],
            `node ${n} of group ${g} has no entry here, so it could not be fenced`,
          );
      for (const n of Object.keys(map))
        if (!groupNodes.includes(n))
          add(['groups', g, 'stonith', 'device', key, n], `"${n}" is not a node of group ${g}`);
    }
  }
  for (const n of Object.keys(isObj(stonith['delay']) ? stonith['delay'] : {}))
    if (!groupNodes.includes(n))
      add(['groups', g, 'stonith', 'delay', n], `"${n}" is not a node of group ${g}`);
}
