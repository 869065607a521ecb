import { isIP } from 'node:net';
import { basename } from 'node:path';
import { HaloError } from '../../errors.js';
import { type Draft, haloDuration, haloName, type ImportNote } from './draft.js';
import { type ConfNode, parseKeepalivedConf } from './keepalived-conf.js';

/**
 * `halo import keepalived [NODE=]keepalived.conf…`: VRRP instances as Halo groups
 * (keepalived.conf(5)). One file describes one node; give every node's file to get the node
 * preference right (a node's name is NODE=, else its global_defs router_id, else the file name).
 *
 * - vrrp_instance → group; priority (state MASTER breaks ties) → node order; preemption (the
 *   default) → autoFailback: true, nopreempt → false.
 * - virtual_ipaddress → `ip` resources (dev, else the instance's interface).
 * - track_script → `script` monitors: interval, timeout, fall → retries; a failing script fails
 *   the group over.
 * - notify_master / notify_backup / notify → a `script` resource started after the addresses.
 * - vrrp_sync_group → its instances merged into one group (they fail over together).
 * Everything else is reported, one line each; auth_pass is never copied or printed.
 */

export interface KeepalivedInput {
  node?: string | undefined;
  file: string;
  text: string;
}

interface Vrrp {
  name: string;
  where: string;
  /** node → priority */
  priority: Map<string, number>;
  preempt: boolean;
  resources: Record<string, Record<string, unknown>>;
  monitors: Record<string, Record<string, unknown>>;
}

const DEFAULT_PRIORITY = 100;

export function importKeepalived(inputs: KeepalivedInput[], givenNodes: readonly string[] = []): Draft {
  const notes: ImportNote[] = [];
  const nodes: string[] = [];
  const instances = new Map<string, Vrrp>();
  const syncGroups: Array<{ name: string; members: string[]; where: string }> = [];
  let clusterName = 'imported';

  for (const input of inputs) {
    const source = basename(input.file);
    const tree = parseKeepalivedConf(input.text, source);
    const where = (n: ConfNode) => `${source}:${n.line}`;
    const skip = (n: ConfNode, message: string) =>
      notes.push({ kind: 'not converted', where: where(n), message });
    const note = (n: ConfNode, message: string) => notes.push({ kind: 'note', where: where(n), message });
    const first = input === inputs[0];

    const globals = tree.find((n) => n.key === 'global_defs');
    const routerId = globals?.children?.find((n) => n.key === 'router_id')?.args[0];
    const node = input.node ?? routerId ?? source.replace(/\.conf$/, '');
    if (!nodes.includes(node)) nodes.push(node);
    if (routerId && first) clusterName = routerId.replace(/[^A-Za-z0-9_.-]/g, '_');
    for (const g of globals?.children ?? []) {
      if (g.key === 'router_id') continue;
      if (first)
        skip(
          g,
          `global_defs ${g.key}: not converted${/notification|smtp/.test(g.key) ? ' (alerts: section: smtp, script and webhook receivers)' : ''}`,
        );
    }

    const scripts = new Map<string, ConfNode>();
    for (const n of tree) if (n.key === 'vrrp_script' && n.args[0]) scripts.set(n.args[0], n);

    for (const n of tree) {
      if (n.key === 'global_defs' || n.key === 'vrrp_script') continue;
      if (n.key === 'vrrp_sync_group') {
        const members =
          (n.children ?? []).find((c) => c.key === 'group')?.children?.flatMap((c) => [c.key, ...c.args]) ??
          [];
        if (first) syncGroups.push({ name: n.args[0] ?? 'sync', members, where: where(n) });
        for (const c of n.children ?? [])
          if (c.key !== 'group') skip(c, `vrrp_sync_group ${n.args[0]}: ${c.key} is not supported`);
        continue;
      }
      if (n.key !== 'vrrp_instance') {
        skip(
          n,
          `${n.key}${n.args.length ? ` ${n.args.join(' ')}` : ''}: not supported (Halo converts VRRP instances only)`,
        );
        continue;
      }
      const name = n.args[0] ?? 'vrrp';
      const known = instances.get(name);
      const v: Vrrp = known ?? {
        name: haloName(name, where(n), notes),
        where: where(n),
        priority: new Map(),
        preempt: true,
        resources: {},
        monitors: {},
      };
      instances.set(name, v);
      const kids = n.children ?? [];
      const value = (key: string) => kids.find((c) => c.key === key)?.args[0];
      const master = value('state') === 'MASTER';
      const priority = Number(value('priority') ?? (master ? 255 : DEFAULT_PRIORITY));
      // state MASTER wins a tie, as it starts as master.
      v.priority.set(node, priority + (master ? 0.5 : 0));
      if (known) {
        // The other nodes' files repeat the instance: only priorities come from them.
        note(
          n,
          `vrrp_instance ${name}: only state and priority are read from this file; the rest comes from ${v.where}`,
        );
        continue;
      }
      const iface = value('interface');
      let vipIndex = 0;
      const vips: string[] = [];
      for (const c of kids) {
        switch (c.key) {
          case 'state':
          case 'priority':
          case 'interface':
            break;
          case 'nopreempt':
            v.preempt = false;
            break;
          case 'virtual_ipaddress':
          case 'virtual_ipaddress_excluded':
            for (const entry of c.children ?? []) {
              const [addr = '', ...rest] = [entry.key, ...entry.args];
              const [ip = '', prefix] = addr.split('/');
              if (isIP(ip) === 0) {
                skip(entry, `${c.key} entry "${addr}": not an IP address`);
                continue;
              }
              const di = rest.indexOf('dev');
              const dev = di >= 0 ? rest[di + 1] : iface;
              if (!dev) {
                skip(entry, `${c.key} entry ${addr}: no dev and no interface in the instance`);
                continue;
              }
              const extra = rest.filter((w, i) => w !== 'dev' && rest[i - 1] !== 'dev');
              if (extra.length) skip(entry, `${c.key} entry ${addr}: ${extra.join(' ')} not supported`);
              vipIndex++;
              const resName = `vip${vipIndex}`;
              v.resources[resName] = {
                type: 'ip',
                ip,
                ...(prefix !== undefined ? { prefix: Number(prefix) } : {}),
                device: dev,
              };
              vips.push(resName);
              if (c.key === 'virtual_ipaddress_excluded')
                note(
                  entry,
                  `${addr}: an excluded address (not in VRRP adverts) is still an ip resource of the group`,
                );
            }
            break;
          case 'track_script':
            for (const t of c.children ?? []) {
              const script = scripts.get(t.key);
              if (!script) {
                skip(t, `track_script ${t.key}: no vrrp_script of that name`);
                continue;
              }
              if (t.args.length)
                skip(
                  t,
                  `track_script ${t.key}: weight ${t.args.join(' ')} not supported (a failing script fails the group over)`,
                );
              const monitor = trackScript(script, skip, note);
              if (monitor) {
                v.monitors[haloName(t.key, where(t), notes)] = monitor;
              }
            }
            break;
          case 'notify_master':
          case 'notify_backup':
          case 'notify':
          case 'notify_stop':
          case 'notify_fault':
            break;
          case 'authentication':
            skip(
              c,
              'authentication: not carried over (Halo signs every message with cluster.secretFile; the password is not copied)',
            );
            break;
          case 'advert_int':
            note(
              c,
              `advert_int ${c.args[0]}: failure detection follows cluster.timing (fast, default, relaxed) instead`,
            );
            break;
          case 'virtual_router_id':
          case 'unicast_src_ip':
            break;
          case 'unicast_peer':
            note(
              c,
              'unicast_peer: the peers are the nodes: section (give their addresses with --node NAME=ADDRESS)',
            );
            break;
          default:
            skip(
              c,
              `vrrp_instance ${name}: ${c.key}${c.args.length ? ` ${c.args.join(' ')}` : ''} is not supported`,
            );
        }
      }
      const notify = notifyResource(kids, name, skip);
      if (notify) v.resources['notify'] = { ...notify, ...(vips.length ? { after: vips } : {}) };
    }
    const tracked = new Set(
      tree
        .filter((n) => n.key === 'vrrp_instance')
        .flatMap((n) => (n.children ?? []).filter((c) => c.key === 'track_script'))
        .flatMap((c) => (c.children ?? []).map((t) => t.key)),
    );
    for (const [name, script] of scripts)
      if (!tracked.has(name)) skip(script, `vrrp_script ${name}: not tracked by any instance`);
  }
  for (const n of givenNodes) if (!nodes.includes(n)) nodes.push(n);

  const groups: Record<string, Record<string, unknown>> = {};
  const byName = new Map([...instances.values()].map((v) => [v.name, v]));
  const inSync = new Set<string>();
  for (const sg of syncGroups) {
    const members = sg.members.map((m) => instances.get(m)).filter((v): v is Vrrp => v !== undefined);
    if (members.length === 0) {
      notes.push({
        kind: 'not converted',
        where: sg.where,
        message: `vrrp_sync_group ${sg.name}: names no converted instance`,
      });
      continue;
    }
    const resources: Record<string, Record<string, unknown>> = {};
    const monitors: Record<string, Record<string, unknown>> = {};
    for (const v of members) {
      inSync.add(v.name);
      const rename = (r: string) => `${v.name}-${r}`;
      for (const [r, res] of Object.entries(v.resources)) {
        const after = res['after'] as string[] | undefined;
        resources[rename(r)] = { ...res, ...(after ? { after: after.map(rename) } : {}) };
      }
      for (const [m, mon] of Object.entries(v.monitors)) monitors[`${v.name}-${m}`] = mon;
    }
    notes.push({
      kind: 'note',
      where: sg.where,
      message: `vrrp_sync_group ${sg.name}: ${members.map((v) => v.name).join(', ')} merged into group ${sg.name}`,
    });
    groups[haloName(sg.name, sg.where, notes)] = group(members[0]!, nodes, resources, monitors);
  }
  for (const v of byName.values()) {
    if (inSync.has(v.name)) continue;
    if (Object.keys(v.resources).length === 0) {
      notes.push({
        kind: 'not converted',
        where: v.where,
        message: `vrrp_instance ${v.name}: no virtual address or notify script, nothing to run`,
      });
      continue;
    }
    groups[v.name] = group(v, nodes, v.resources, v.monitors);
  }
  if (inputs.length === 1 && nodes.length > 1)
    notes.push({
      kind: 'note',
      where: basename(inputs[0]!.file),
      message: `only ${nodes[0]}'s priorities are known; the other nodes come after it (pass every node's keepalived.conf as NODE=FILE to order them by priority)`,
    });
  // In input order: each file in turn, by line.
  const files = inputs.map((i) => basename(i.file));
  const key = (n: ImportNote) => {
    const [file = '', line = '0'] = n.where.split(':');
    return files.indexOf(file) * 1e7 + Number(line);
  };
  notes.sort((a, b) => key(a) - key(b));
  return { clusterName, nodes, groups, notes };
}

function group(
  v: Vrrp,
  nodes: string[],
  resources: Record<string, unknown>,
  monitors: Record<string, unknown>,
): Record<string, unknown> {
  const order = nodes
    .map((n, i) => ({ n, i, p: v.priority.get(n) ?? -1 }))
    .sort((a, b) => b.p - a.p || a.i - b.i)
    .map((x) => x.n);
  return {
    nodes: order,
    autoFailback: v.preempt,
    resources,
    ...(Object.keys(monitors).length ? { monitors } : {}),
  };
}

function trackScript(
  script: ConfNode,
  skip: (n: ConfNode, message: string) => void,
  note: (n: ConfNode, message: string) => void,
): Record<string, unknown> | undefined {
  const kids = script.children ?? [];
  const cmd = kids.find((c) => c.key === 'script');
  if (!cmd?.args[0]) {
    skip(script, `vrrp_script ${script.args[0]}: no script line`);
    return undefined;
  }
  const seconds = (key: string, dflt: number) => {
    const v = Number(kids.find((c) => c.key === key)?.args[0] ?? dflt);
    return Number.isFinite(v) && v > 0 ? v : dflt;
  };
  const interval = seconds('interval', 1);
  const monitor: Record<string, unknown> = {
    type: 'script',
    // keepalived runs the script line without a shell, split on spaces; so does an argv list.
    command: cmd.args.length === 1 ? cmd.args[0]!.split(/\s+/).filter(Boolean) : cmd.args,
    interval: haloDuration(Math.round(interval * 1000)),
    timeout: haloDuration(Math.round(seconds('timeout', interval) * 1000)),
    retries: Math.max(0, Math.round(seconds('fall', 1)) - 1),
    onFailure: 'failover',
  };
  for (const c of kids) {
    if (['script', 'interval', 'timeout', 'fall'].includes(c.key)) continue;
    if (c.key === 'weight' && Number(c.args[0]) !== 0)
      note(
        c,
        `vrrp_script ${script.args[0]}: weight ${c.args[0]} lowers priority in keepalived; in Halo a failing monitor fails the group over`,
      );
    else if (c.key === 'user' && c.args[0]) monitor['user'] = c.args[0];
    else if (c.key !== 'weight')
      skip(c, `vrrp_script ${script.args[0]}: ${c.key} ${c.args.join(' ')} is not supported`);
  }
  return monitor;
}

/** notify_master/notify_backup (or the generic notify) as a script resource. */
function notifyResource(
  kids: ConfNode[],
  instance: string,
  skip: (n: ConfNode, message: string) => void,
): Record<string, unknown> | undefined {
  const get = (key: string) => kids.find((c) => c.key === key);
  const master = get('notify_master');
  const backup = get('notify_backup') ?? get('notify_stop');
  const generic = get('notify');
  for (const key of ['notify_fault', 'notify_master_rx_lower_pri'] as const) {
    const n = get(key);
    if (n) skip(n, `${key}: not supported (a failed group raises an alert; see the alerts: section)`);
  }
  if (get('notify_backup') && get('notify_stop'))
    skip(get('notify_stop')!, 'notify_stop: notify_backup is used as the stop command; notify_stop is not');
  const line = (n: ConfNode | undefined) => n?.args.join(' ');
  let start = line(master);
  let stop = line(backup);
  if (generic?.args[0]) {
    // keepalived calls it with: "INSTANCE" name state priority.
    start ??= `${generic.args.join(' ')} INSTANCE ${instance} MASTER 0`;
    stop ??= `${generic.args.join(' ')} INSTANCE ${instance} BACKUP 0`;
  }
  if (start === undefined && stop === undefined) return undefined;
  return { type: 'script', start: start ?? 'true', stop: stop ?? 'true' };
}

export function keepalivedInputs(args: readonly string[], read: (file: string) => string): KeepalivedInput[] {
  return args.map((arg) => {
    const eq = arg.indexOf('=');
    const node = eq > 0 && !arg.slice(0, eq).includes('/') ? arg.slice(0, eq) : undefined;
    const file = node !== undefined ? arg.slice(eq + 1) : arg;
    if (file === '') throw new HaloError('HALO_E_USAGE', `expected [NODE=]FILE, got "${arg}"`);
    return { node, file, text: read(file) };
  });
}
