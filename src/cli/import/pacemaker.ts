import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ocfDuration } from '../../engine/resources/ocf/meta-data.js';
import { HaloError } from '../../errors.js';
import { type Draft, haloDuration, haloName, type ImportNote } from './draft.js';

/**
 * `halo import pacemaker CIB.xml`: a Pacemaker CIB (what `pcs cluster cib` or `cibadmin -Q`
 * prints) as a Halo config (Pacemaker Explained, "Resources" and "Constraints").
 *
 * - primitive → resource: class ocf kept as `type: ocf` with its instance attributes as
 *   `params`; lsb and systemd/service as `script` resources calling the init script or
 *   systemctl; a recurring monitor op → a `resource` monitor; start/stop op timeouts → timeouts.
 * - group → group, its members started in order (`after` the previous member); a primitive
 *   outside any group → a group of its own.
 * - rsc_colocation with score INFINITY where one side is a lone primitive → that primitive
 *   joins the other side's group (a Halo group is what runs together on one node).
 * - rsc_order start→start inside one (merged) group → `after`.
 * - rsc_location node/score → the group's node preference; -INFINITY → node left out.
 * Everything else (clones, promotable and bundle resources, stonith devices, rules, resource
 * sets, tickets, properties, defaults, alerts, ACLs, other meta attributes and op settings) is
 * reported, one line each.
 */

type El = Record<string, unknown>;

const LISTS = new Set([
  'cluster_property_set',
  'nvpair',
  'node',
  'primitive',
  'group',
  'clone',
  'master',
  'bundle',
  'template',
  'instance_attributes',
  'meta_attributes',
  'utilization',
  'op',
  'rsc_location',
  'rsc_colocation',
  'rsc_order',
  'rsc_ticket',
  'resource_set',
  'rule',
  'alert',
  'tag',
]);

const INFINITY = 1_000_000;
/** Ops that pcs adds from the agent's meta-data and that mean nothing without live migration or reload. */
const QUIET_OPS = new Set([
  'reload',
  'reload-agent',
  'migrate_to',
  'migrate_from',
  'meta-data',
  'validate-all',
]);

interface Primitive {
  id: string;
  name: string;
  where: string;
  resource: Record<string, unknown>;
  monitor?: Record<string, unknown>;
  restartLimit?: number;
}

interface Unit {
  /** Halo group name. */
  name: string;
  members: Primitive[];
  /** Node → score from location constraints. */
  scores: Map<string, number>;
}

export function importPacemaker(xml: string, source: string, givenNodes: readonly string[] = []): Draft {
  const valid = XMLValidator.validate(xml);
  if (valid !== true)
    throw new HaloError(
      'HALO_E_IMPORT',
      `${source}:${valid.err.line}: not well-formed XML: ${valid.err.msg}`,
      { file: source },
    );
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    parseTagValue: false,
    parseAttributeValue: false,
    captureMetaData: true,
    isArray: (name) => LISTS.has(name),
  });
  const doc = parser.parse(xml) as El;
  const cib = doc['cib'] as El | undefined;
  const configuration = cib?.['configuration'] as El | undefined;
  if (!configuration)
    throw new HaloError('HALO_E_IMPORT', `${source}: not a Pacemaker CIB (no <cib><configuration>)`, {
      file: source,
    });

  const meta = XMLParser.getMetaDataSymbol() as unknown as symbol;
  const lineStarts = [0];
  for (let i = 0; i < xml.length; i++) if (xml.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const at = (el: unknown): string => {
    const start = (el as Record<symbol, { startIndex?: number } | undefined>)?.[meta]?.startIndex;
    if (start === undefined) return source;
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= start) lo = mid;
      else hi = mid - 1;
    }
    return `${source}:${lo + 1}`;
  };
  const notes: ImportNote[] = [];
  const skip = (el: unknown, message: string) =>
    notes.push({ kind: 'not converted', where: at(el), message });
  const note = (el: unknown, message: string) => notes.push({ kind: 'note', where: at(el), message });

  // crm_config: the cluster name is used; every other property is reported.
  let clusterName = 'imported';
  for (const set of list(el(configuration['crm_config'])['cluster_property_set'])) {
    for (const nv of list(set['nvpair'])) {
      if (nv['@name'] === 'cluster-name' && typeof nv['@value'] === 'string') clusterName = nv['@value'];
      else if (
        !['dc-version', 'cluster-infrastructure', 'have-watchdog', 'last-lrm-refresh'].includes(
          String(nv['@name']),
        )
      )
        skip(
          nv,
          `cluster property ${nv['@name']}=${nv['@value']}: Halo has no such setting (fencing is lease expiry plus the deadman helper; quorum is the lease majority)`,
        );
    }
  }

  const nodes: string[] = [];
  const addNode = (n: string) => {
    if (!nodes.includes(n)) nodes.push(n);
  };
  for (const n of list(el(configuration['nodes'])['node'])) {
    const uname = String(n['@uname'] ?? '');
    if (uname) addNode(uname);
    if (n['instance_attributes'] || n['utilization'])
      skip(n, `node attributes of ${uname}: Halo has no node attributes`);
  }
  for (const n of givenNodes) addNode(n);

  // Resources.
  const units: Unit[] = [];
  const unitOf = new Map<string, Unit>();
  const primitiveById = new Map<string, Primitive>();
  const resources = el(configuration['resources']);
  const convert = (p: El): Primitive | undefined => {
    const prim = convertPrimitive(p, at(p), notes, skip, note);
    if (prim) primitiveById.set(prim.id, prim);
    return prim;
  };
  for (const p of list(resources['primitive'])) {
    const prim = convert(p);
    if (!prim) continue;
    const unit: Unit = { name: prim.name, members: [prim], scores: new Map() };
    units.push(unit);
    unitOf.set(prim.id, unit);
  }
  for (const g of list(resources['group'])) {
    const id = String(g['@id']);
    const unit: Unit = { name: haloName(id, at(g), notes), members: [], scores: new Map() };
    metaAttributes(g, `group ${id}`, skip, note);
    for (const p of list(g['primitive'])) {
      const prim = convert(p);
      if (prim) unit.members.push(prim);
    }
    if (unit.members.length === 0) continue;
    units.push(unit);
    unitOf.set(id, unit);
    for (const m of unit.members) unitOf.set(m.id, unit);
  }
  for (const kind of ['clone', 'master', 'bundle', 'template'] as const) {
    for (const c of list(resources[kind])) {
      const why =
        kind === 'bundle'
          ? 'bundles (containers managed by Pacemaker) have no Halo equivalent'
          : kind === 'template'
            ? 'resource templates are not supported; write the resources out'
            : kind === 'master' || isPromotable(c)
              ? 'promotable clones (promote/demote) are not supported yet'
              : 'clones run on every node at once; a Halo group runs on one node (run it as a systemd service on each node instead)';
      skip(c, `${kind} ${c['@id']}: ${why}`);
    }
  }

  // Constraints: colocations first (they decide which primitives share a group).
  const constraints = el(configuration['constraints']);
  const resolve = (id: unknown): Unit | undefined => (typeof id === 'string' ? unitOf.get(id) : undefined);
  for (const c of list(constraints['rsc_colocation'])) {
    const what = `colocation ${c['@id']} (${c['@rsc'] ?? 'sets'} with ${c['@with-rsc'] ?? 'sets'}, score ${c['@score'] ?? c['@score-attribute'] ?? '?'})`;
    if (c['resource_set']) {
      skip(c, `${what}: resource sets are not supported`);
      continue;
    }
    const a = resolve(c['@rsc']);
    const b = resolve(c['@with-rsc']);
    if (!a || !b) {
      skip(c, `${what}: names a resource that was not converted`);
      continue;
    }
    if (a === b) continue;
    if (score(c['@score']) < INFINITY) {
      skip(
        c,
        `${what}: only mandatory (INFINITY) colocation maps to a Halo group; Halo has no anti-colocation or advisory placement`,
      );
      continue;
    }
    const lone =
      a.members.length === 1 && a.members[0]!.id === c['@rsc']
        ? a
        : b.members.length === 1 && b.members[0]!.id === c['@with-rsc']
          ? b
          : undefined;
    if (!lone) {
      skip(c, `${what}: colocating two groups is not supported; merge them into one group by hand`);
      continue;
    }
    const into = lone === a ? b : a;
    // "rsc with with-rsc": with-rsc is placed first, so it comes first in the merged group.
    if (lone === a) into.members.push(...lone.members);
    else into.members.unshift(...lone.members);
    for (const [node, s] of lone.scores) into.scores.set(node, (into.scores.get(node) ?? 0) + s);
    units.splice(units.indexOf(lone), 1);
    for (const [id, u] of unitOf) if (u === lone) unitOf.set(id, into);
    note(c, `${what}: ${lone.members[0]!.id} joins group ${into.name}`);
  }

  // Start order inside each unit: a Pacemaker group's members in order; then order constraints.
  const after = new Map<Primitive, Set<string>>();
  const addAfter = (p: Primitive, dep: Primitive) => {
    if (p === dep) return;
    const set = after.get(p) ?? new Set<string>();
    set.add(dep.name);
    after.set(p, set);
  };
  for (const g of list(resources['group'])) {
    const members = list(g['primitive'])
      .map((p) => primitiveById.get(String(p['@id'])))
      .filter((p): p is Primitive => p !== undefined);
    for (let i = 1; i < members.length; i++) addAfter(members[i]!, members[i - 1]!);
  }
  const groupMembers = (id: string): Primitive[] => {
    const g = list(resources['group']).find((x) => x['@id'] === id);
    if (g)
      return list(g['primitive'])
        .map((p) => primitiveById.get(String(p['@id'])))
        .filter((p): p is Primitive => !!p);
    const p = primitiveById.get(id);
    return p ? [p] : [];
  };
  for (const c of list(constraints['rsc_order'])) {
    const what = `order ${c['@id']} (${c['@first'] ?? 'sets'} then ${c['@then'] ?? 'sets'})`;
    if (c['resource_set']) {
      skip(c, `${what}: resource sets are not supported`);
      continue;
    }
    const actions = `${c['@first-action'] ?? 'start'}/${c['@then-action'] ?? c['@first-action'] ?? 'start'}`;
    if (actions !== 'start/start') {
      skip(c, `${what}: only start-then-start order is supported (got ${actions})`);
      continue;
    }
    if (c['@kind'] !== undefined && c['@kind'] !== 'Mandatory')
      note(c, `${what}: kind ${c['@kind']} is treated as Mandatory`);
    const a = resolve(c['@first']);
    const b = resolve(c['@then']);
    if (!a || !b) {
      skip(c, `${what}: names a resource that was not converted`);
      continue;
    }
    if (a !== b) {
      skip(
        c,
        `${what}: the two run in different Halo groups, and Halo does not order groups; colocate them (one group) or start them in order yourself`,
      );
      continue;
    }
    const firsts = groupMembers(String(c['@first']));
    const thens = groupMembers(String(c['@then']));
    if (firsts.length && thens.length) addAfter(thens[0]!, firsts.at(-1)!);
  }
  for (const c of list(constraints['rsc_location'])) {
    const what = `location ${c['@id']} (${c['@rsc'] ?? c['@rsc-pattern'] ?? 'sets'})`;
    if (c['rule'] || c['resource_set'] || c['@rsc-pattern'] || c['@role']) {
      skip(
        c,
        `${what}: rules, patterns, resource sets and roles are not supported; set the group's node order by hand`,
      );
      continue;
    }
    const unit = resolve(c['@rsc']);
    if (!unit || typeof c['@node'] !== 'string') {
      skip(c, `${what}: names a resource that was not converted`);
      continue;
    }
    addNode(c['@node']);
    unit.scores.set(c['@node'], (unit.scores.get(c['@node']) ?? 0) + score(c['@score']));
  }
  for (const c of list(constraints['rsc_ticket']))
    skip(c, `ticket ${c['@id']}: tickets (multi-site) are not supported`);
  for (const key of ['rsc_defaults', 'op_defaults', 'fencing-topology', 'acls', 'tags', 'alerts'] as const) {
    if (configuration[key] !== undefined && configuration[key] !== '')
      skip(
        configuration[key],
        `${key}: not converted (${key === 'alerts' ? 'see the alerts: section of the config' : 'no Halo equivalent'})`,
      );
  }

  const groups: Record<string, Record<string, unknown>> = {};
  for (const unit of units) {
    const order = nodes
      .map((n, i) => ({ n, i, s: unit.scores.get(n) ?? 0 }))
      .filter((x) => x.s > -INFINITY)
      .sort((x, y) => y.s - x.s || x.i - y.i)
      .map((x) => x.n);
    const res: Record<string, unknown> = {};
    const monitors: Record<string, unknown> = {};
    for (const m of unit.members) {
      const deps = [...(after.get(m) ?? [])].filter((d) => unit.members.some((x) => x.name === d));
      res[m.name] = { ...m.resource, ...(deps.length ? { after: deps } : {}) };
      if (m.monitor) monitors[`${m.name}-monitor`] = { ...m.monitor, target: m.name };
    }
    groups[unit.name] = {
      nodes: order,
      resources: res,
      ...(Object.keys(monitors).length ? { monitors } : {}),
    };
  }
  const line = (n: ImportNote) => Number(n.where.slice(source.length + 1)) || 0;
  notes.sort((a, b) => line(a) - line(b));
  return { clusterName, nodes, groups, notes };
}

function convertPrimitive(
  p: El,
  where: string,
  notes: ImportNote[],
  skip: (el: unknown, message: string) => void,
  note: (el: unknown, message: string) => void,
): Primitive | undefined {
  const id = String(p['@id']);
  const cls = String(p['@class'] ?? '');
  const type = String(p['@type'] ?? '');
  if (p['@template']) {
    skip(p, `primitive ${id}: templates are not supported`);
    return undefined;
  }
  const params: Record<string, string> = {};
  const sets = list(p['instance_attributes']);
  sets.forEach((set, i) => {
    if (set['rule'] || i > 0) {
      skip(set, `instance_attributes ${set['@id']} of ${id}: only one set without rules is supported`);
      return;
    }
    for (const nv of list(set['nvpair'])) params[String(nv['@name'])] = String(nv['@value'] ?? '');
  });
  const name = haloName(id, where, notes);
  let resource: Record<string, unknown>;
  if (cls === 'ocf') {
    resource = {
      type: 'ocf',
      agent: `ocf:${p['@provider'] ?? 'heartbeat'}:${type}`,
      ...(Object.keys(params).length ? { params } : {}),
    };
  } else if (cls === 'lsb' || cls === 'systemd' || cls === 'service') {
    if (Object.keys(params).length)
      skip(
        p,
        `primitive ${id}: ${cls} resources take no parameters; ignored ${Object.keys(params).join(', ')}`,
      );
    const q = `'${type.replace(/'/g, `'\\''`)}'`;
    resource =
      cls === 'lsb'
        ? {
            type: 'script',
            start: `/etc/init.d/${q} start`,
            stop: `/etc/init.d/${q} stop`,
            // LSB: status 0 = running, 3 = not running (OCF says 7), anything else = failed.
            check: `/etc/init.d/${q} status >/dev/null 2>&1; rc=$?; [ $rc -eq 3 ] && exit 7; exit $rc`,
          }
        : {
            type: 'script',
            start: `systemctl start ${q}`,
            stop: `systemctl stop ${q}`,
            check: `if systemctl is-active --quiet ${q}; then exit 0; elif systemctl is-failed --quiet ${q}; then exit 1; else exit 7; fi`,
          };
    note(
      p,
      `primitive ${id}: ${cls}:${type} becomes a script resource (${cls === 'lsb' ? 'the init script' : 'systemctl'})`,
    );
  } else if (cls === 'stonith') {
    skip(
      p,
      `stonith device ${id} (${type}): Halo fences by lease expiry and its deadman helper, not by fence devices`,
    );
    return undefined;
  } else {
    skip(p, `primitive ${id}: resource class "${cls}" is not supported (ocf, lsb, systemd and service are)`);
    return undefined;
  }
  const prim: Primitive = { id, name, where, resource };
  const restart = metaAttributes(p, `primitive ${id}`, skip, note);
  if (restart !== undefined) prim.restartLimit = restart;

  const timeout: Record<string, string> = {};
  let monitorSeen = false;
  for (const op of list(el(p['operations'])['op'])) {
    const opName = String(op['@name'] ?? '');
    const extra = Object.keys(op).filter(
      (k) => k.startsWith('@') && !['@id', '@name', '@interval', '@timeout', '@on-fail', '@role'].includes(k),
    );
    if (extra.length)
      skip(op, `op ${op['@id']} of ${id}: ${extra.map((k) => k.slice(1)).join(', ')} not supported`);
    const onFail = op['@on-fail'];
    if (onFail !== undefined && onFail !== 'restart' && !(opName === 'stop' && onFail === 'fence'))
      skip(
        op,
        `op ${op['@id']} of ${id}: on-fail=${onFail} is not supported (Halo restarts, then fails over; a failed stop always fences)`,
      );
    const t = ocfDuration(String(op['@timeout'] ?? ''));
    if (opName === 'start' || opName === 'stop') {
      if (t !== undefined) timeout[opName] = haloDuration(t);
    } else if (opName === 'monitor') {
      const interval = ocfDuration(String(op['@interval'] ?? '0')) ?? 0;
      if (op['@role'] !== undefined && !['Started', 'Slave', 'Unpromoted'].includes(String(op['@role']))) {
        skip(op, `op ${op['@id']} of ${id}: monitor in role ${op['@role']} is not supported`);
      } else if (interval === 0) {
        note(
          op,
          `op ${op['@id']} of ${id}: a monitor without interval is a probe; Halo probes every resource anyway`,
        );
      } else if (monitorSeen) {
        skip(op, `op ${op['@id']} of ${id}: only the first recurring monitor is converted`);
      } else {
        monitorSeen = true;
        prim.monitor = {
          type: 'resource',
          interval: haloDuration(interval),
          timeout: haloDuration(t ?? 20_000),
          // Pacemaker acts on the first failed monitor.
          retries: 0,
          onFailure: { restart: prim.restartLimit ?? 1, then: 'failover' },
        };
        if (t !== undefined) timeout['check'] = haloDuration(t);
      }
    } else if (!QUIET_OPS.has(opName)) {
      skip(
        op,
        `op ${op['@id']} of ${id}: action ${opName} is not supported${opName === 'promote' || opName === 'demote' ? ' (promotable agents are left for later)' : ''}`,
      );
    }
  }
  if (Object.keys(timeout).length) resource['timeout'] = timeout;
  if (prim.monitor && prim.restartLimit === undefined)
    note(
      p,
      `primitive ${id}: a failed monitor restarts it once here, then fails the group over (Pacemaker's default migration-threshold INFINITY restarts it here without end)`,
    );
  return prim;
}

/** Reports meta attributes; returns the restart limit a migration-threshold implies. */
function metaAttributes(
  el: El,
  what: string,
  skip: (el: unknown, message: string) => void,
  note: (el: unknown, message: string) => void,
): number | undefined {
  let restart: number | undefined;
  for (const set of list(el['meta_attributes'])) {
    for (const nv of list(set['nvpair'])) {
      const name = String(nv['@name']);
      const value = String(nv['@value'] ?? '');
      if (name === 'migration-threshold' && /^\d+$/.test(value) && Number(value) > 0) {
        restart = Number(value) - 1;
        note(nv, `${what}: migration-threshold=${value} → restart ${restart} time(s), then fail over`);
      } else if (name === 'resource-stickiness') {
        note(
          nv,
          `${what}: resource-stickiness=${value}: Halo groups stay where they run (autoFailback: false)`,
        );
      } else if (name === 'target-role' && value === 'Started') {
        // The default.
      } else {
        skip(
          nv,
          `${what}: meta attribute ${name}=${value} is not supported${name === 'target-role' ? ' (stop the group with `halo stop GROUP` once the config runs)' : ''}`,
        );
      }
    }
  }
  return restart;
}

function isPromotable(c: El): boolean {
  return list(c['meta_attributes']).some((set) =>
    list(set['nvpair']).some((nv) => nv['@name'] === 'promotable' && nv['@value'] === 'true'),
  );
}

function score(value: unknown): number {
  const s = String(value ?? '0').trim();
  if (/^\+?INFINITY$/i.test(s)) return INFINITY;
  if (/^-INFINITY$/i.test(s)) return -INFINITY;
  const n = Number(s);
  return Number.isFinite(n) ? Math.max(-INFINITY, Math.min(INFINITY, n)) : 0;
}

function el(value: unknown): El {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as El) : {};
}

function list(value: unknown): El[] {
  if (Array.isArray(value)) return value.filter((v): v is El => v !== null && typeof v === 'object');
  return value !== null && typeof value === 'object' ? [value as El] : [];
}
