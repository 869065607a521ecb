import type { FenceAction } from '../../../coordination/deadman/fence-action.js';
import { HaloError } from '../../../errors.js';
import type { CheckResult, ResourceContext, ResourceInstance, ResourcePlugin } from '../types.js';
import { type DnsTarget, deleteAddressIfOurs, lookupAddresses, replaceAddress } from './dns-client.js';
import { type DnsParams, dnsParams } from './params.js';
import { readKeyFile } from './tsig-key.js';
import { addressType, canonicalAddress, normalizeName } from './wire.js';

/**
 * `dns`: points a name at the active node with an RFC 2136 dynamic update
 * signed with TSIG (RFC 8945), e.g. to BIND. The wire format and TSIG are implemented here
 * (wire.ts, tsig.ts) so the secret never leaves the process: no nsupdate, no command line.
 * Start replaces the A/AAAA RRset and reads it back; check asks the authoritative server
 * directly; stop leaves the record for the next owner to replace unless `deleteOnStop`.
 * Only the lease holder starts the resource, so "last writer wins" on the server is safe.
 */
export class DnsRecord implements ResourceInstance {
  private started = false;

  constructor(
    private readonly resourceName: string,
    private params: DnsParams,
  ) {}

  /** The zone of the update: configured, else the name without its first label. */
  zone(): string {
    return normalizeName(this.params.zone ?? this.params.name.replace(/^[^.]+\./, ''));
  }

  /** The address `node` puts into the record. */
  addressOf(node: string): string {
    const address = this.params.addresses[node];
    if (address === undefined)
      throw new HaloError(
        'HALO_E_DNS_NO_ADDRESS',
        `dns "${this.resourceName}": no address for node ${node}; add it to addresses`,
        { resource: this.resourceName, node },
      );
    return address;
  }

  private target(ctx: ResourceContext): DnsTarget {
    return {
      server: this.params.server,
      port: this.params.port,
      key: readKeyFile(this.params.keyFile, this.params.keyName),
      timeoutMs: this.params.callTimeout,
      signal: ctx.signal,
    };
  }

  async start(ctx: ResourceContext): Promise<void> {
    const address = this.addressOf(ctx.node);
    const name = normalizeName(this.params.name);
    const target = this.target(ctx);
    await replaceAddress(target, this.zone(), name, address, this.params.ttl);
    // Read it back: a server that answers NOERROR but serves something else (an update
    // forwarded to a primary that has not transferred yet, a view) must not pass as started.
    const seen = await lookupAddresses(target, name, addressType(address));
    const want = canonicalAddress(address);
    if (seen.addresses.length !== 1 || seen.addresses[0] !== want)
      throw new HaloError(
        'HALO_E_DNS_NOT_APPLIED',
        `DNS server ${this.params.server}:${this.params.port} accepted the update of ${name} → ${address} but answers ${describe(seen.addresses, seen.rcode)}`,
        { resource: ctx.resource, name, address },
      );
    this.started = true;
    ctx.log.info(
      {
        resource: ctx.resource,
        name,
        address,
        ttl: this.params.ttl,
        server: this.params.server,
        key: target.key.name,
      },
      'dns record points here',
    );
  }

  async stop(ctx: ResourceContext): Promise<void> {
    const wasStarted = this.started;
    this.started = false;
    if (!this.params.deleteOnStop || !wasStarted) return;
    const name = normalizeName(this.params.name);
    const address = this.addressOf(ctx.node);
    // A failed stop makes the node fence itself; a record left behind is harmless (the next
    // owner replaces it), so a server that cannot be reached only earns a warning.
    try {
      const removed = await deleteAddressIfOurs(this.target(ctx), this.zone(), name, address);
      ctx.log.info(
        { resource: ctx.resource, name, address },
        removed ? 'dns record removed' : 'dns record already points elsewhere; left alone',
      );
    } catch (err) {
      ctx.log.warn(
        { resource: ctx.resource, name, err: (err as Error).message },
        'dns record could not be removed; the next owner replaces it',
      );
    }
  }

  async check(ctx: ResourceContext): Promise<CheckResult> {
    if (!this.started) return { state: 'stopped', reason: 'not started' };
    const name = normalizeName(this.params.name);
    const address = this.addressOf(ctx.node);
    const want = canonicalAddress(address);
    let seen: Awaited<ReturnType<typeof lookupAddresses>>;
    try {
      seen = await lookupAddresses(this.target(ctx), name, addressType(address));
    } catch (err) {
      const reason = `could not verify ${name}: ${(err as Error).message}`;
      // The server's own answer (a refusal) is a fact about the record; silence is not.
      const answered = err instanceof HaloError && err.details?.['rcode'] !== undefined;
      if (answered || this.params.onServerError === 'fail') return { state: 'failed', reason };
      return { state: 'running', reason: `warning: ${reason} (onServerError: warn, no failover)` };
    }
    if (seen.addresses.length === 1 && seen.addresses[0] === want)
      return { state: 'running', reason: `${name} → ${address} on ${this.params.server}` };
    return {
      state: 'failed',
      reason: `${name} should point at ${address} but ${this.params.server} answers ${describe(seen.addresses, seen.rcode)}`,
    };
  }

  /** Nothing local to take down: the next owner's update replaces the record. */
  fenceActions(): FenceAction[] {
    return [];
  }

  async applyLive(params: Record<string, unknown>): Promise<void> {
    const next = params as Partial<DnsParams>;
    this.params = {
      ...this.params,
      ...(next.callTimeout !== undefined ? { callTimeout: next.callTimeout } : {}),
      ...(next.onServerError !== undefined ? { onServerError: next.onServerError } : {}),
    };
  }
}

function describe(addresses: string[], rcode: string): string {
  if (addresses.length === 0) return rcode === 'NOERROR' ? 'no such record' : rcode;
  return addresses.join(', ');
}

function validateDns(params: DnsParams): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  const name = normalizeName(params.name);
  if (params.zone !== undefined) {
    const zone = normalizeName(params.zone);
    if (name !== zone && !name.endsWith(`.${zone}`))
      problems.push(['zone', `${params.name} is not inside zone ${params.zone}`]);
  } else if (!name.includes('.')) {
    problems.push(['name', 'expected a name with a zone (like db.example.com), or set zone']);
  }
  if (Object.keys(params.addresses).length === 0)
    problems.push(['addresses', 'expected the address of at least one node']);
  return problems;
}

export const dnsResource: ResourcePlugin<DnsParams> = {
  type: 'dns',
  description: 'Points a DNS name at the active node through an RFC 2136 dynamic update signed with TSIG.',
  params: dnsParams,
  validate: validateDns,
  uniqueAcrossGroups: ['name'],
  nodeKeyed: ['addresses'],
  paramModes: { callTimeout: 'live', onServerError: 'live', timeout: 'live' },
  create: (name, params) => new DnsRecord(name, params),
};
