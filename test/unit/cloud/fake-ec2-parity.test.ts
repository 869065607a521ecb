import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Ec2Api } from '../../../src/cloud/aws/ec2-api.js';
import { Ec2Error } from '../../../src/cloud/aws/ec2-error.js';
import { needPeer } from '../../support/requirements.js';
import { FakeEc2 } from './fake-ec2.js';
import { MOTO_MISSING, motoAvailable, motoEc2 } from './moto-api.js';

/**
 * The fake EC2 the unit tests use rejects calls the way EC2 does: the same calls go to moto
 * (through Halo's real SDK client) and to the fake, and the errors must be identical.
 */

const signal = new AbortController().signal;
const CIDR = '172.16.0.1/32';
const UNKNOWN = 'rtb-00000000000000000';

type Outcome =
  | { ok: true }
  | { ok: false; name: string; failure: string; awsCode: string | undefined; message: string };

async function outcome(p: Promise<unknown>): Promise<Outcome> {
  try {
    await p;
    return { ok: true };
  } catch (err) {
    assert.ok(err instanceof Ec2Error, `an Ec2Error, not ${String(err)}`);
    return { ok: false, name: err.name, failure: err.failure, awsCode: err.awsCode, message: err.message };
  }
}

/** The calls both must answer alike; `tables` = [one with the route to eni, one without]. */
async function script(api: Ec2Api, tables: [string, string], eni: string): Promise<Record<string, Outcome>> {
  const [withRoute, without] = tables;
  return {
    'ReplaceRoute of a route that is not there': await outcome(api.replaceRoute(without, CIDR, eni, signal)),
    'DescribeRouteTables of an unknown table': await outcome(api.describeRouteTables([UNKNOWN], signal)),
    'CreateRoute in an unknown table': await outcome(api.createRoute(UNKNOWN, CIDR, eni, signal)),
    'ReplaceRoute in an unknown table': await outcome(api.replaceRoute(UNKNOWN, CIDR, eni, signal)),
    'ReplaceRoute of a route that is there': await outcome(api.replaceRoute(withRoute, CIDR, eni, signal)),
    'CreateRoute of a new route': await outcome(api.createRoute(without, CIDR, eni, signal)),
  };
}

describe('the fake EC2 against moto', () => {
  it('rejects the same calls with the same error codes and messages', async (t) => {
    if (!needPeer(t, MOTO_MISSING, motoAvailable())) return;
    const { api, lab } = await motoEc2();
    const aws = await lab();
    const [a, b] = aws.routeTables as [string, string];
    const eni = aws.enis['n1'] as string;
    await api.createRoute(a, CIDR, eni, signal);
    const fromMoto = await script(api, [a, b], eni);

    const fake = new FakeEc2([a, b]);
    fake.tables.get(a)?.set(CIDR, eni);
    const fromFake = await script(fake, [a, b], eni);

    assert.deepEqual(fromFake, fromMoto);
    // And the answers are the ones route-target.ts acts on.
    assert.equal(
      (fromMoto['ReplaceRoute of a route that is not there'] as { awsCode: string }).awsCode,
      'InvalidParameterValue',
    );
    assert.match(
      (fromMoto['ReplaceRoute of a route that is not there'] as { message: string }).message,
      /Use CreateRoute instead/,
    );
  });

  it('differs in one documented place: CreateRoute over an existing route', async (t) => {
    if (!needPeer(t, MOTO_MISSING, motoAvailable())) return;
    // EC2 answers RouteAlreadyExists; moto accepts the call. The fake follows EC2, so the
    // create-then-replace fallback can be tested at all. If moto starts answering like EC2,
    // this test fails: then the fallback test can move to moto.
    const { api, lab } = await motoEc2();
    const aws = await lab();
    const [a] = aws.routeTables as [string];
    await api.createRoute(a, CIDR, aws.enis['n1'] as string, signal);
    assert.deepEqual(await outcome(api.createRoute(a, CIDR, aws.enis['n2'] as string, signal)), { ok: true });
    const fake = new FakeEc2([a]);
    fake.tables.get(a)?.set(CIDR, 'eni-1');
    const fromFake = await outcome(fake.createRoute(a, CIDR, 'eni-2'));
    assert.equal(fromFake.ok, false);
    assert.equal((fromFake as { awsCode: string }).awsCode, 'RouteAlreadyExists');
  });
});
