import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const procTable = fileURLToPath(new URL('../../../src/engine/exec/proc-table.js', import.meta.url));

describe('listProcesses', () => {
  it('serves a hundred scans at once within 128 file descriptors, each one whole', () => {
    // A thousand groups stopping together each scan /proc; unbounded, their reads ran the agent
    // out of descriptors (EMFILE) and the scans missed processes or threw.
    const script = `
      const { listProcesses } = await import(${JSON.stringify(procTable)});
      const scans = await Promise.all(Array.from({ length: 100 }, () => listProcesses()));
      const whole = scans.filter((s) => s.some((p) => p.pid === process.pid) && s.some((p) => p.pid === 1));
      console.log(whole.length);`;
    const out = execFileSync(
      'prlimit',
      ['--nofile=128', process.execPath, '--input-type=module', '-e', script],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(out.trim(), '100');
  });
});
