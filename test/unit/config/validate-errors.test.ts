import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { cli } from '../../support/run-cli.js';
import { tempDir, writePrivate } from '../../support/temp-dir.js';

type Doc = Record<string, any>;

/** A small valid cluster: two nodes, a witness, one group with a script resource. */
function baseConfig(): Doc {
  return {
    cluster: { name: 'test', secretFile: 'cluster.key' },
    nodes: { n1: { address: '127.0.0.1', peerPort: 17401 }, n2: { address: '127.0.0.1', peerPort: 17411 } },
    witness: { address: '127.0.0.1', port: 17402 },
    groups: {
      web: {
        nodes: ['n1', 'n2'],
        resources: {
          app: { type: 'script', start: 'true', stop: 'true' },
          probe: { type: 'lb-probe', probePort: 59999, after: ['app'] },
        },
        monitors: { app_alive: { type: 'process', target: 'app', match: 'app', interval: '5s' } },
      },
    },
    monitors: { share: { type: 'tcp', host: '127.0.0.1', port: 445, interval: '60s' } },
  };
}

interface Case {
  name: string;
  mutate?: (doc: Doc) => void;
  text?: string;
  /**
   * [path, message fragment, line:column] for each expected problem. The position is where an
   * editor should put the cursor: the offending value, or for a missing key the mapping that
   * lacks it (for the whole document, 1:1).
   */
  expect: Array<[string, string, `${number}:${number}`]>;
}

const cases: Case[] = [
  {
    name: 'an unknown top-level key',
    mutate: (d) => (d['colour'] = 'blue'),
    expect: [['colour', 'unknown key', '41:9']],
  },
  {
    name: 'an unknown cluster key',
    mutate: (d) => (d.cluster.nmae = 'x'),
    expect: [['cluster.nmae', 'unknown key', '4:9']],
  },
  {
    name: 'a missing cluster name',
    mutate: (d) => delete d.cluster.name,
    expect: [['cluster.name', 'missing required key', '2:3']],
  },
  {
    name: 'a cluster name with spaces',
    mutate: (d) => (d.cluster.name = 'my cluster'),
    expect: [['cluster.name', 'expected a name', '2:9']],
  },
  {
    name: 'a bad duration',
    mutate: (d) => (d.groups.web.monitors.app_alive.interval = '5 sec'),
    expect: [['groups.web.monitors.app_alive.interval', 'expected a duration', '34:19']],
  },
  {
    name: 'a number where a duration is expected',
    mutate: (d) => (d.monitors.share.timeout = 5),
    expect: [['monitors.share.timeout', 'expected a duration', '41:14']],
  },
  {
    name: 'a port out of range',
    mutate: (d) => (d.nodes.n1.peerPort = 70000),
    expect: [['nodes.n1.peerPort', 'expected a port number from 1 to 65535', '7:15']],
  },
  {
    name: 'a port given as a string',
    mutate: (d) => (d.witness.port = 'high'),
    expect: [['witness.port', 'expected a TCP/UDP port number', '13:9']],
  },
  {
    name: 'an unknown timing profile',
    mutate: (d) => (d.cluster.timing = 'turbo'),
    expect: [['cluster.timing', 'expected a profile name', '4:11']],
  },
  {
    name: 'timing values that cannot be safe together',
    mutate: (d) => (d.cluster.timing = { lease: '1s', renew: '600ms', stopBudget: '300ms' }),
    expect: [['cluster.timing.renew', 'unsafe timing', '6:12']],
  },
  {
    name: 'a stop budget larger than half the lease',
    mutate: (d) => (d.cluster.timing = { lease: '1s', renew: '100ms', stopBudget: '700ms' }),
    expect: [['cluster.timing.stopBudget', 'unsafe timing', '7:17']],
  },
  {
    name: 'an unknown resource type',
    mutate: (d) => (d.groups.web.resources.app.type = 'scrpt'),
    expect: [['groups.web.resources.app.type', 'unknown resource type', '21:15']],
  },
  {
    name: 'a resource without type',
    mutate: (d) => delete d.groups.web.resources.app.type,
    expect: [
      [
        'groups.web.resources.app.type',
        'missing required key; unknown resource type; expected one of: script',
        '21:9',
      ],
    ],
  },
  {
    name: 'an unknown resource parameter',
    mutate: (d) => (d.groups.web.resources.app.strat = 'x'),
    expect: [['groups.web.resources.app.strat', 'unknown key', '24:16']],
  },
  {
    name: 'a missing script stop command',
    mutate: (d) => delete d.groups.web.resources.app.stop,
    expect: [['groups.web.resources.app.stop', 'missing required key', '21:9']],
  },
  {
    name: 'a command of the wrong type',
    mutate: (d) => (d.groups.web.resources.app.start = 42),
    expect: [['groups.web.resources.app.start', 'expected a shell command string', '22:16']],
  },
  {
    name: 'an after reference to an unknown resource',
    mutate: (d) => (d.groups.web.resources.probe.after = ['ap']),
    expect: [['groups.web.resources.probe.after[0]', 'unknown resource "ap"', '28:13']],
  },
  {
    name: 'a dependency cycle',
    mutate: (d) => (d.groups.web.resources.app.after = ['probe']),
    expect: [['groups.web.resources.app.after', 'dependency cycle: app → probe → app', '25:11']],
  },
  {
    name: 'a group on an unknown node',
    mutate: (d) => d.groups.web.nodes.push('n3'),
    expect: [['groups.web.nodes[2]', 'unknown node "n3"', '19:9']],
  },
  {
    name: 'a group with no nodes',
    mutate: (d) => (d.groups.web.nodes = []),
    expect: [['groups.web.nodes', 'expected', '16:12']],
  },
  {
    name: 'a monitor target that is not a resource',
    mutate: (d) => (d.groups.web.monitors.app_alive.target = 'db'),
    expect: [['groups.web.monitors.app_alive.target', 'unknown resource "db"', '32:17']],
  },
  {
    name: 'a resource monitor without target',
    mutate: (d) => (d.groups.web.monitors.chk = { type: 'resource' }),
    expect: [['groups.web.monitors.chk.target', 'needs a target', '36:9']],
  },
  {
    name: 'a node-level monitor with a target',
    mutate: (d) => (d.monitors.share.target = 'app'),
    expect: [['monitors.share.target', 'node-level monitors have no target', '41:13']],
  },
  {
    name: 'a node-level monitor that fails over',
    mutate: (d) => (d.monitors.share.onFailure = 'failover'),
    expect: [['monitors.share.onFailure', 'cannot fail a group over', '41:16']],
  },
  {
    name: 'an unknown onFailure action',
    mutate: (d) => (d.groups.web.monitors.app_alive.onFailure = 'reboot'),
    expect: [['groups.web.monitors.app_alive.onFailure', 'expected failover, ineligible', '35:20']],
  },
  {
    name: 'the same VIP in two groups',
    mutate: (d) => {
      d.groups.web.resources.vip = { type: 'ip', ip: '10.213.0.100', device: 'eth0' };
      d.groups.db = {
        nodes: ['n2', 'n1'],
        resources: { vip: { type: 'ip', ip: '10.213.0.100', device: 'eth0' } },
      };
    },
    expect: [['groups.db.resources.vip.ip', 'already used by groups.web.resources.vip', '46:13']],
  },
  {
    name: 'the same probe port in two groups',
    mutate: (d) =>
      (d.groups.db = { nodes: ['n2'], resources: { probe: { type: 'lb-probe', probePort: 59999 } } }),
    expect: [['groups.db.resources.probe.probePort', 'already used by groups.web.resources.probe', '41:20']],
  },
  {
    name: 'a two-node cluster without a witness',
    mutate: (d) => delete d.witness,
    expect: [['witness', 'a two-node cluster needs a witness', '1:1']],
  },
  {
    name: 'a witness in etcd mode',
    mutate: (d) => (d.cluster.coordination = { type: 'etcd', endpoints: ['http://127.0.0.1:2379'] }),
    expect: [['witness', 'no witness in etcd mode', '16:3']],
  },
  {
    name: 'two nodes on the same address and port',
    mutate: (d) => (d.nodes.n2.peerPort = 17401),
    expect: [['nodes.n2.peerPort', 'already used by node n1', '10:15']],
  },
  {
    name: 'a node called witness',
    mutate: (d) => (d.nodes.witness = { address: '127.0.0.2' }),
    expect: [['nodes.witness', 'reserved', '12:5']],
  },
  {
    name: 'a missing secret file',
    mutate: (d) => (d.cluster.secretFile = 'nope.key'),
    expect: [['cluster.secretFile', 'does not exist', '3:15']],
  },
  {
    name: 'a health gate naming a monitor the group does not have',
    mutate: (d) => (d.groups.web.resources.probe.healthGate = ['app_alive', 'nope']),
    expect: [['groups.web.resources.probe.healthGate[1]', 'unknown monitor "nope"', '31:13']],
  },
  {
    name: 'a per-node parameter for a node outside the group',
    mutate: (d) => (d.groups.web.resources.probe.probePortByNode = { n1: 59001, n9: 59009 }),
    expect: [['groups.web.resources.probe.probePortByNode.n9', '"n9" is not a node of group web', '31:15']],
  },
  {
    name: 'a route table listed twice (a check of the resource type itself)',
    mutate: (d) =>
      (d.groups.web.resources.vip = {
        type: 'aws-route-vip',
        ip: '172.16.0.1',
        routeTables: ['rtb-1', 'rtb-2', 'rtb-1'],
        eni: { n1: 'eni-1', n2: 'eni-2' },
      }),
    expect: [['groups.web.resources.vip.routeTables[2]', 'route table rtb-1 is listed twice', '35:13']],
  },
  {
    name: 'a fencing policy this version does not implement',
    mutate: (d) => (d.groups.web.fencing = 'watchdog'),
    expect: [['groups.web.fencing', 'expected lease, token or stonith', '35:14']],
  },
  {
    name: 'an invalid http monitor url',
    mutate: (d) => (d.monitors.web = { type: 'http', url: 'not a url' }),
    expect: [['monitors.web.url', 'expected an http', '43:10']],
  },
  {
    name: 'a duplicate key in YAML',
    text: 'cluster:\n  name: a\n  name: b\n  secretFile: cluster.key\nnodes:\n  n1: { address: 127.0.0.1 }\n',
    expect: [['cluster', 'duplicate key "name"', '3:3']],
  },
  {
    name: 'YAML that is not a mapping of sections',
    text: '- just\n- a list\n',
    expect: [['(top level)', 'expected object', '1:1']],
  },
];

test('config validate rejects each invalid config with exit code 2, the path and what was expected', async (t) => {
  assert.ok(cases.length >= 25, 'at least 25 distinct invalid configs');
  for (const c of cases) {
    await t.test(c.name, async (t) => {
      const dir = tempDir(t);
      writePrivate(join(dir, 'cluster.key'), 'k'.repeat(64));
      const doc = baseConfig();
      c.mutate?.(doc);
      const file = join(dir, 'halo.yaml');
      writePrivate(file, c.text ?? stringify(doc));
      const { code, stderr, stdout } = await cli(['config', 'validate', file]);
      assert.equal(code, 2, `exit code 2 for ${c.name}; stdout: ${stdout}`);
      assert.equal(stdout, '');
      for (const [path, fragment, at] of c.expect) {
        const line = stderr.split('\n').find((l) => l.includes(`: ${path}: `));
        assert.ok(line, `a problem at ${path} in:\n${stderr}`);
        assert.ok(line.includes(fragment), `"${fragment}" in: ${line}`);
        assert.ok(
          line.trimStart().startsWith(`${file}:${at}: ${path}: `),
          `reported at ${file}:${at}: ${line}`,
        );
      }
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    });
  }
});

test('a secret file readable by other users is rejected with the chmod that fixes it', async (t) => {
  const dir = tempDir(t);
  const key = writePrivate(join(dir, 'cluster.key'), 'k'.repeat(64));
  chmodSync(key, 0o644);
  const file = join(dir, 'halo.yaml');
  writePrivate(file, stringify(baseConfig()));
  const { code, stderr } = await cli(['config', 'validate', file]);
  assert.equal(code, 2);
  assert.match(stderr, /cluster\.secretFile: cluster key file .* has mode 0644 .* run `chmod 600 /);
});

test('one file with five different problems reports all five in one pass', async (t) => {
  const dir = tempDir(t);
  writePrivate(join(dir, 'cluster.key'), 'k'.repeat(64));
  const doc = baseConfig();
  doc.cluster.colour = 'blue';
  doc.nodes.n1.peerPort = 0;
  doc.groups.web.nodes = ['n1', 'nx'];
  doc.groups.web.resources.app.type = 'unknown-type';
  doc.monitors.share.interval = 'soon';
  const file = join(dir, 'halo.yaml');
  writePrivate(file, stringify(doc));
  const { code, stderr } = await cli(['config', 'validate', file]);
  assert.equal(code, 2);
  assert.match(stderr, /5 problems/);
  for (const path of [
    'cluster.colour',
    'nodes.n1.peerPort',
    'groups.web.nodes[1]',
    'groups.web.resources.app.type',
    'monitors.share.interval',
  ]) {
    assert.ok(stderr.includes(`: ${path}: `), `${path} reported in:\n${stderr}`);
  }
});

test('a file that does not exist is a clear read error with exit code 2', async () => {
  const { code, stderr } = await cli(['config', 'validate', '/nonexistent/halo.yaml']);
  assert.equal(code, 2);
  assert.match(
    stderr,
    /HALO_E_CONFIG_READ: \/nonexistent\/halo\.yaml: cannot read the configuration file \(ENOENT\)/,
  );
});
