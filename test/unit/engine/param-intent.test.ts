import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterIntent } from '../../../src/coordination/types.js';
import {
  newOverrides,
  paramIntentKeys,
  parseParamIntent,
  remoteParamsView,
} from '../../../src/engine/param-intent.js';

const config = { start: 'run', env: { PORT: '59999' } };

function intent(entries: Record<string, [unknown, number]>): ClusterIntent {
  return Object.fromEntries(Object.entries(entries).map(([k, [value, version]]) => [k, { value, version }]));
}

describe('parameter overrides in the replicated intent', () => {
  it('groups overrides and the applied record by resource; a null value drops an override', () => {
    const parsed = parseParamIntent(
      intent({
        [paramIntentKeys.param('g', 'r', 'env')]: [{ PORT: '1' }, 10],
        [paramIntentKeys.param('g', 'r', 'start')]: [null, 11],
        [paramIntentKeys.applied('g', 'r')]: [{ node: 'n1', values: {}, versions: {} }, 12],
        [paramIntentKeys.applied('g', 'x')]: ['not a record', 13],
        'group/g/state': ['started', 1],
      }),
    );
    assert.deepEqual([...parsed.keys()], ['g/r']);
    assert.deepEqual(parsed.get('g/r'), {
      overrides: { env: { value: { PORT: '1' }, version: 10 } },
      applied: { node: 'n1', values: {}, versions: {} },
    });
  });

  it('an override is new to a node until it took that version', () => {
    const overrides = { env: { value: 1, version: 10 }, start: { value: 2, version: 20 } };
    assert.deepEqual(Object.keys(newOverrides(overrides, { env: 10, start: 19 })), ['start']);
    assert.deepEqual(newOverrides(overrides, { env: 10, start: 20 }), {});
  });

  it('with no owner every accepted value is what the next start uses: nothing pending', () => {
    const view = remoteParamsView(
      config,
      { overrides: { env: { value: { PORT: '2' }, version: 5 } }, applied: null },
      null,
    );
    assert.deepEqual(view, { params: { start: 'run', env: { PORT: '2' } }, pending: {} });
  });

  it("the owner's applied record says what is in effect; newer values are pending", () => {
    const state = {
      overrides: { env: { value: { PORT: '3' }, version: 7 } },
      applied: { node: 'n1', values: { env: { PORT: '2' } }, versions: { env: 5 } },
    };
    assert.deepEqual(remoteParamsView(config, state, 'n1'), {
      params: { start: 'run', env: { PORT: '2' } },
      pending: { env: { PORT: '3' } },
    });
    // A record written by another node is from an earlier run: the owner runs the config's value.
    assert.deepEqual(remoteParamsView(config, state, 'n2'), {
      params: config,
      pending: { env: { PORT: '3' } },
    });
    const current = {
      ...state,
      applied: { ...state.applied, values: { env: { PORT: '3' } }, versions: { env: 7 } },
    };
    assert.deepEqual(remoteParamsView(config, current, 'n1'), {
      params: { start: 'run', env: { PORT: '3' } },
      pending: {},
    });
  });
});
