import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoopLag } from '../../../src/agent/loop-lag.js';

describe('LoopLag', () => {
  it('reads 0 while the timer fires on time', () => {
    const lag = new LoopLag({ everyMs: 100, windowMs: 5000 });
    for (let t = 0; t <= 3000; t += 100) lag.sample(t);
    assert.equal(lag.maxMs(3000), 0);
  });

  it('reads a stall as the lateness of the timer it held up', () => {
    const lag = new LoopLag({ everyMs: 100, windowMs: 5000 });
    lag.sample(0);
    lag.sample(100);
    lag.sample(1600); // due at 200: the loop was stuck for 1.4 s
    lag.sample(1700);
    assert.equal(lag.maxMs(1700), 1400);
  });

  it('shows a loop stuck right now at once, before the timer catches up', () => {
    const lag = new LoopLag({ everyMs: 100, windowMs: 5000 });
    lag.sample(0);
    assert.equal(lag.maxMs(50), 0);
    assert.equal(lag.maxMs(2100), 2000);
  });

  it('forgets a stall after two whole windows', () => {
    const lag = new LoopLag({ everyMs: 100, windowMs: 1000 });
    lag.sample(0);
    lag.sample(900); // 800 ms late, in the first window
    for (let t = 1000; t <= 1900; t += 100) lag.sample(t);
    assert.equal(lag.maxMs(1900), 800, 'the last window still counts');
    for (let t = 2000; t <= 3100; t += 100) lag.sample(t);
    assert.equal(lag.maxMs(3100), 0);
  });
});
