import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LAST_LINE_MAX_CHARS, lastLine, OutputTail } from '../../../src/engine/exec/output-tail.js';

describe('lastLine', () => {
  it('is the last line with text, trailing blank lines and spaces ignored', () => {
    assert.equal(lastLine('starting\nfatal: lost disk  \n\n\n'), 'fatal: lost disk');
    assert.equal(lastLine('only line'), 'only line');
    assert.equal(lastLine('a\r\nb\r\n'), 'b');
    assert.equal(lastLine(''), '');
    assert.equal(lastLine('\n \n'), '');
  });

  it('cuts an endless line to the limit, marked with an ellipsis', () => {
    const line = lastLine(`head\n${'x'.repeat(100_000)}`);
    assert.equal(line.length, LAST_LINE_MAX_CHARS);
    assert.ok(line.endsWith('x…'));
    assert.equal(lastLine('abcdef', 4), 'abc…');
  });

  it('never ends on half of a character outside the BMP', () => {
    // 😀 is two UTF-16 units; the cut at 3 units would fall inside the second one.
    const line = lastLine('ab😀cdef', 4);
    assert.equal(line, 'ab…');
    assert.doesNotMatch(line, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});

describe('OutputTail', () => {
  it('keeps the last bytes and says how many it dropped', () => {
    const tail = new OutputTail(10);
    tail.push(Buffer.from('0123456789'));
    tail.push(Buffer.from('abcde'));
    assert.equal(tail.dropped, 5);
    assert.equal(tail.text(), '[… 5 bytes dropped]\n56789abcde');
  });
});
