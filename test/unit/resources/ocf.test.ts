import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { ocfResource } from '../../../src/engine/resources/ocf/index.js';
import { ocfDuration, parseMetaData } from '../../../src/engine/resources/ocf/meta-data.js';
import { ocfParams } from '../../../src/engine/resources/ocf/params.js';
import { completeOcf, validateOcf } from '../../../src/engine/resources/ocf/validate.js';
import { needPeer } from '../../support/requirements.js';
import { makeContext, tempDir } from './context.js';

const DUMMY = '/usr/lib/ocf/resource.d/heartbeat/Dummy';

function params(input: Record<string, unknown>) {
  return ocfParams.parse(input);
}

/** Points OCF_ROOT at a directory of the test's own for its duration. */
function useOcfRoot(t: TestContext, root: string): void {
  const before = process.env['OCF_ROOT'];
  process.env['OCF_ROOT'] = root;
  t.after(() => {
    if (before === undefined) delete process.env['OCF_ROOT'];
    else process.env['OCF_ROOT'] = before;
  });
}

/**
 * A small OCF agent of the test's own (plain sh, no ocf-shellfuncs): it records its
 * environment on every action, and its exit codes come from files the test writes.
 */
function writeAgent(root: string): string {
  const dir = join(root, 'resource.d', 'halotest');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'Probe');
  writeFileSync(
    path,
    `#!/bin/sh
env | grep -E '^(OCF_|HA_RSCTMP)' | sort > "${root}/env.$1"
case "$1" in
meta-data) cat <<'XML'
<?xml version="1.0"?>
<resource-agent name="Probe" version="0.1">
<version>1.0</version>
<shortdesc lang="en">test agent</shortdesc>
<parameters>
<parameter name="mode" required="1"><shortdesc lang="en">what to do</shortdesc><content type="string"/></parameter>
<parameter name="count"><shortdesc lang="en">a number</shortdesc><content type="integer" default="3"/></parameter>
</parameters>
<actions>
<action name="start" timeout="45s"/>
<action name="stop" timeout="2min"/>
<action name="monitor" timeout="7" interval="10s"/>
<action name="validate-all" timeout="5s"/>
<action name="meta-data" timeout="5s"/>
</actions>
</resource-agent>
XML
exit 0;;
esac
rc=$(cat "${root}/rc.$1" 2>/dev/null || echo 0)
[ "$rc" = 0 ] || echo "ocf-exit-reason:$1 says no ($rc)" >&2
exit "$rc"
`,
  );
  chmodSync(path, 0o755);
  return path;
}

describe('ocf resource: parameters against the meta-data', () => {
  it('names the parameter and the agent for unknown, missing and wrongly typed parameters', (t) => {
    const root = tempDir(t);
    writeAgent(root);
    useOcfRoot(t, root);
    const problems = validateOcf(
      params({ agent: 'ocf:halotest:Probe', params: { modd: 'x', count: 'many' } }),
    );
    assert.deepEqual(problems, [
      [
        'params.modd',
        'unknown parameter "modd" of OCF agent ocf:halotest:Probe (did you mean "mode"?); its parameters: mode, count',
      ],
      ['params.count', 'parameter "count" of OCF agent ocf:halotest:Probe: expected an integer, got "many"'],
      ['params', 'missing required parameter "mode" of OCF agent ocf:halotest:Probe (what to do)'],
    ]);
    assert.deepEqual(
      validateOcf(params({ agent: 'ocf:halotest:Probe', params: { mode: 'a', count: 4 } })),
      [],
    );
  });

  it('reports an agent that is not installed under OCF_ROOT', (t) => {
    const root = tempDir(t);
    useOcfRoot(t, root);
    const [problem] = validateOcf(params({ agent: 'ocf:heartbeat:Nope' }));
    assert.equal(problem?.[0], 'agent');
    assert.match(
      problem?.[1] ?? '',
      /OCF agent ocf:heartbeat:Nope not found: .*resource\.d\/heartbeat\/Nope: no such file/,
    );
  });

  it('takes the timeouts the agent advertises unless the config sets them', (t) => {
    const root = tempDir(t);
    writeAgent(root);
    useOcfRoot(t, root);
    assert.deepEqual(completeOcf(params({ agent: 'ocf:halotest:Probe', params: { mode: 'a' } })).timeout, {
      start: 45_000,
      stop: 120_000,
      check: 7_000,
    });
    assert.deepEqual(
      completeOcf(params({ agent: 'ocf:halotest:Probe', timeout: { stop: '9s' } })).timeout?.stop,
      9_000,
    );
  });

  it('reads durations the way Pacemaker does (a bare number is seconds)', () => {
    assert.equal(ocfDuration('20'), 20_000);
    assert.equal(ocfDuration('20s'), 20_000);
    assert.equal(ocfDuration('2min'), 120_000);
    assert.equal(ocfDuration('500ms'), 500);
    assert.equal(ocfDuration('soon'), undefined);
  });

  it('parses the meta-data of a real agent (heartbeat/IPaddr2)', (t) => {
    if (!needPeer(t, 'resource-agents (/usr/lib/ocf/resource.d/heartbeat)', existsSync(DUMMY))) return;
    const problems = validateOcf(params({ agent: 'ocf:heartbeat:IPaddr2', params: { cidr_netmask: 24 } }));
    assert.deepEqual(problems, [
      ['params', 'missing required parameter "ip" of OCF agent ocf:heartbeat:IPaddr2 (IPv4 or IPv6 address)'],
    ]);
    assert.throws(() => parseMetaData('<html/>'), /no <resource-agent> element/);
  });
});

describe('ocf resource: actions', () => {
  it('runs heartbeat/Dummy: probe says stopped, start, monitor says running, stop, stop again', async (t) => {
    if (!needPeer(t, 'resource-agents (/usr/lib/ocf/resource.d/heartbeat/Dummy)', existsSync(DUMMY))) return;
    const stateDir = tempDir(t);
    const resource = ocfResource.create('d1', params({ agent: 'ocf:heartbeat:Dummy' }));
    const probe = makeContext({ stateDir });
    const monitor = makeContext({ stateDir, monitorIntervalMs: 10_000 });
    assert.equal((await resource.check(probe)).state, 'stopped');
    await resource.start(probe);
    assert.ok(
      existsSync(join(stateDir, 'ocf-rsctmp', 'Dummy-g1-r1.state')),
      'state file in the node-local HA_RSCTMP',
    );
    assert.equal((await resource.check(monitor)).state, 'running');
    await resource.stop(probe);
    const after = await resource.check(monitor);
    assert.equal(after.state, 'stopped');
    await resource.stop(probe);
  });

  it('passes the Pacemaker environment and fails a start whose validate-all says not configured', async (t) => {
    const root = tempDir(t);
    writeAgent(root);
    useOcfRoot(t, root);
    const stateDir = tempDir(t);
    const resource = ocfResource.create(
      'p1',
      completeOcf(params({ agent: 'ocf:halotest:Probe', params: { mode: 'on', count: 2 } })),
    );
    await resource.start(makeContext({ stateDir }));
    const env = readFileSync(join(root, 'env.start'), 'utf8');
    for (const line of [
      `OCF_ROOT=${root}`,
      'OCF_RESOURCE_INSTANCE=g1-r1',
      'OCF_RESOURCE_TYPE=Probe',
      'OCF_RESOURCE_PROVIDER=halotest',
      'OCF_RESKEY_mode=on',
      'OCF_RESKEY_count=2',
      'OCF_RESKEY_CRM_meta_timeout=45000',
      'OCF_RESKEY_CRM_meta_name=start',
      'OCF_RA_VERSION_MAJOR=1',
      `HA_RSCTMP=${stateDir}/ocf-rsctmp`,
    ])
      assert.ok(env.split('\n').includes(line), `${line} in\n${env}`);
    assert.ok(existsSync(join(root, 'env.validate-all')), 'validate-all ran before start');

    writeFileSync(join(root, 'rc.validate-all'), '6');
    await assert.rejects(
      resource.start(makeContext({ stateDir })),
      (err: Error & { details?: { hard?: boolean } }) => {
        assert.match(
          err.message,
          /validate-all of resource "p1" \(ocf:halotest:Probe\) exited with 6 \(OCF_ERR_CONFIGURED: the resource is configured wrong\): validate-all says no \(6\)/,
        );
        assert.equal(err.details?.hard, true);
        return true;
      },
    );
  });

  it('tells a probe from a monitor and marks hard monitor errors', async (t) => {
    const root = tempDir(t);
    writeAgent(root);
    useOcfRoot(t, root);
    const stateDir = tempDir(t);
    const resource = ocfResource.create(
      'p1',
      completeOcf(params({ agent: 'ocf:halotest:Probe', params: { mode: 'on' } })),
    );
    writeFileSync(join(root, 'rc.monitor'), '5');
    const probed = await resource.check(makeContext({ stateDir }));
    assert.equal(probed.state, 'stopped', 'a probe reads "not installed" as not running here');
    assert.match(readFileSync(join(root, 'env.monitor'), 'utf8'), /OCF_RESKEY_CRM_meta_interval=0\n/);
    const monitored = await resource.check(makeContext({ stateDir, monitorIntervalMs: 4000 }));
    assert.equal(monitored.state, 'failed');
    assert.equal(monitored.hard, true);
    assert.match(monitored.reason ?? '', /OCF_ERR_INSTALLED/);
    assert.match(readFileSync(join(root, 'env.monitor'), 'utf8'), /OCF_RESKEY_CRM_meta_interval=4000\n/);
    writeFileSync(join(root, 'rc.monitor'), '1');
    const soft = await resource.check(makeContext({ stateDir, monitorIntervalMs: 4000 }));
    assert.equal(soft.state, 'failed');
    assert.equal(soft.hard, undefined);
    writeFileSync(join(root, 'rc.stop'), '7');
    await resource.stop(makeContext({ stateDir }));
  });
});
