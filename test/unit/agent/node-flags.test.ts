import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DAEMON_ENV, DAEMON_NODE_FLAGS, DAEMON_V8_FLAGS } from '../../../src/agent/node-flags.js';

const unit = (name: string) =>
  readFileSync(new URL(`../../../../packaging/${name}`, import.meta.url), 'utf8');

describe('V8 options of the daemons', () => {
  for (const name of ['halo-agent.service', 'halo-witness.service']) {
    it(`${name} runs with the options the lab measures`, () => {
      const line = unit(name)
        .split('\n')
        .find((l) => l.startsWith('Environment=NODE_OPTIONS='));
      assert.equal(line, `Environment=NODE_OPTIONS="${DAEMON_NODE_FLAGS.join(' ')}"`);
    });

    it(`${name} gives node the V8 options the lab measures on its command line`, () => {
      const exec = unit(name)
        .split('\n')
        .find((l) => l.startsWith('ExecStart='));
      assert.ok(
        exec?.startsWith(`ExecStart=/usr/bin/node ${DAEMON_V8_FLAGS.join(' ')} /usr/bin/halo `),
        exec,
      );
    });

    it(`${name} sets the environment the lab measures`, () => {
      const lines = unit(name).split('\n');
      for (const [key, value] of Object.entries(DAEMON_ENV))
        assert.ok(lines.includes(`Environment=${key}=${value}`), `${name} sets ${key}=${value}`);
    });
  }

  it('on the command line are V8 options this node knows', () => {
    const known = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
    for (const flag of DAEMON_V8_FLAGS) assert.ok(known.includes(`  ${flag} (`), flag);
  });

  it('are options node accepts in NODE_OPTIONS', () => {
    for (const flag of DAEMON_NODE_FLAGS)
      assert.ok(process.allowedNodeEnvironmentFlags.has(flag.split('=')[0]!), flag);
  });
});
