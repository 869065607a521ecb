/**
 * The demo runs every node on one machine, so each node's S3 server needs its own port while
 * the config stays identical on every node (its digest is the config epoch). The process
 * resource and the monitor therefore get the whole map (`n1=9001,n2=9002`) and pick their
 * own entry with HALO_NODE, which the agent sets for every command it runs.
 */

export function parsePortMap(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const part of text.split(',')) {
    const m = /^([\w.-]+)=(\d+)$/.exec(part.trim());
    if (!m) throw new Error(`expected NODE=PORT[,NODE=PORT…], got "${text}"`);
    map.set(m[1]!, Number(m[2]));
  }
  return map;
}

export function formatPortMap(ports: Record<string, number>): string {
  return Object.entries(ports)
    .map(([node, port]) => `${node}=${port}`)
    .join(',');
}

/** This node's port from `--ports`, using HALO_NODE. */
export function ownPort(argv: string[], env: NodeJS.ProcessEnv): number {
  const text = optionValue(argv, '--ports');
  const node = env['HALO_NODE'];
  if (!node) throw new Error('HALO_NODE is not set: run this through a halo agent');
  const port = parsePortMap(text).get(node);
  if (port === undefined) throw new Error(`--ports has no entry for node ${node}`);
  return port;
}

export function optionValue(argv: string[], name: string): string {
  const i = argv.indexOf(name);
  const value = i >= 0 ? argv[i + 1] : undefined;
  if (value === undefined) throw new Error(`missing ${name} VALUE`);
  return value;
}
