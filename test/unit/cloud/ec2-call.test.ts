import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callWithBudget } from '../../../src/cloud/aws/ec2-call.js';
import { classifyEc2Error, type Ec2Error } from '../../../src/cloud/aws/ec2-error.js';

const awsError = (name: string, status: number, fault: 'client' | 'server' = 'client') =>
  Object.assign(new Error(`${name} happened`), {
    name,
    $fault: fault,
    $metadata: { httpStatusCode: status },
  });
const netError = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

describe('classifyEc2Error', () => {
  it('tells transient failures from definitive answers', () => {
    const cases: Array<[unknown, string, boolean]> = [
      [netError('ECONNREFUSED'), 'unreachable', true],
      [Object.assign(new Error('x'), { cause: netError('ECONNRESET') }), 'unreachable', true],
      [Object.assign(new Error('slow'), { name: 'TimeoutError' }), 'timeout', true],
      [awsError('RequestLimitExceeded', 503), 'throttled', true],
      [awsError('InternalError', 500, 'server'), 'server', true],
      [awsError('InvalidRouteTableID.NotFound', 400), 'rejected', false],
      [awsError('UnauthorizedOperation', 403), 'rejected', false],
    ];
    for (const [err, failure, transient] of cases) {
      const e = classifyEc2Error('DescribeRouteTables', err);
      assert.equal(e.failure, failure, String((err as Error).name));
      assert.equal(e.transient, transient);
    }
    const rejected = classifyEc2Error('CreateRoute', awsError('RouteAlreadyExists', 400));
    assert.equal(rejected.awsCode, 'RouteAlreadyExists');
    assert.match(rejected.message, /^EC2 CreateRoute was rejected: RouteAlreadyExists/);
  });

  it('names the missing region as something the user sets', () => {
    const e = classifyEc2Error('DescribeRouteTables', new Error('Region is missing'));
    assert.match(e.message, /set "region" on the resource or AWS_REGION/);
  });
});

describe('callWithBudget', () => {
  const signal = new AbortController().signal;

  it('retries transient errors and returns the first answer', async () => {
    let n = 0;
    const value = await callWithBudget({ op: 'X', budgetMs: 5000, signal, baseDelayMs: 1 }, async () => {
      n++;
      if (n < 3) throw netError('ECONNRESET');
      return 'ok';
    });
    assert.equal(value, 'ok');
    assert.equal(n, 3);
  });

  it('does not retry a definitive answer', async () => {
    let n = 0;
    await assert.rejects(
      callWithBudget({ op: 'X', budgetMs: 5000, signal, baseDelayMs: 1 }, async () => {
        n++;
        throw awsError('UnauthorizedOperation', 403);
      }),
      (err: Ec2Error) => err.failure === 'rejected' && err.awsCode === 'UnauthorizedOperation',
    );
    assert.equal(n, 1);
  });

  it('gives up when the budget is spent, aborting the attempt in flight', async () => {
    let aborted = false;
    await assert.rejects(
      callWithBudget({ op: 'DescribeRouteTables', budgetMs: 150, signal }, (s) => {
        return new Promise((_, reject) =>
          s.addEventListener('abort', () => {
            aborted = true;
            reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
          }),
        );
      }),
      (err: Ec2Error) =>
        err.failure === 'timeout' && err.transient && /did not answer within 150ms/.test(err.message),
    );
    assert.ok(aborted);
  });

  it('keeps the last transient cause when retries run out of budget', async () => {
    await assert.rejects(
      callWithBudget({ op: 'X', budgetMs: 200, signal, baseDelayMs: 20 }, async () => {
        throw netError('ECONNREFUSED');
      }),
      (err: Ec2Error) => err.failure === 'unreachable' && /ECONNREFUSED/.test(err.message),
    );
  });

  it('stops at once when the caller aborts', async () => {
    const ctl = new AbortController();
    const p = callWithBudget({ op: 'X', budgetMs: 10_000, signal: ctl.signal }, (s) => {
      return new Promise((_, reject) => s.addEventListener('abort', () => reject(new Error('aborted'))));
    });
    ctl.abort(new Error('demoted'));
    await assert.rejects(p, (err: Ec2Error) => err.failure === 'cancelled' && /demoted/.test(err.message));
  });
});
