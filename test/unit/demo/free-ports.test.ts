import assert from 'node:assert/strict';
import { it } from 'node:test';
import { freePorts } from '../../../src/demo/free-ports.js';

it('never hands out the same port twice, though the kernel may offer a released one again', async () => {
  // 500 single-port requests: with ~28,000 ephemeral ports the kernel repeats one here
  // almost surely (about 4 repeats expected), which is how an etcd test cluster once got
  // two members on one peer URL.
  const seen = new Set<number>();
  for (let i = 0; i < 500; i++) {
    const [port] = await freePorts(1);
    assert.ok(port !== undefined && !seen.has(port), `port ${port} handed out twice`);
    seen.add(port);
  }
});
