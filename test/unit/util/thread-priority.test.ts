import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { needPeer } from '../../support/requirements.js';
import { threadNice } from '../../support/thread-nice.js';

const RAISE_IN_WORKER = `
  const { parentPort } = require('node:worker_threads');
  import(${JSON.stringify(new URL('../../../src/util/thread-priority.js', import.meta.url).href)}).then((m) => {
    const problem = m.raiseOwnThreadPriority();
    parentPort.postMessage({ problem, tid: m.ownThreadId() });
    parentPort.once('message', () => process.exit(0));
  });
`;

describe('timekeeper thread priority', () => {
  it('raises only the calling thread (a worker) to nice −10 and leaves the main thread alone', async (t) => {
    if (!needPeer(t, 'root (raising a priority needs CAP_SYS_NICE)', process.getuid?.() === 0)) return;
    const mainBefore = threadNice(process.pid, process.pid);
    const worker = new Worker(RAISE_IN_WORKER, { eval: true });
    t.after(() => worker.terminate());
    const reply = await new Promise<{ problem: string | null; tid: number }>((resolve) =>
      worker.once('message', resolve),
    );
    assert.equal(reply.problem, null);
    assert.notEqual(reply.tid, process.pid);
    assert.equal(threadNice(process.pid, reply.tid), -10);
    assert.equal(threadNice(process.pid, process.pid), mainBefore);
    worker.postMessage('done');
  });
});
