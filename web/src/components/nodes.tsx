import { ms } from '../format';
import type { StatusView } from '../types';
import { Badge } from './ui';

/** Membership as this agent sees it: nodes, the witness, and whether a majority is reachable. */
export function Nodes(props: { status: StatusView }) {
  const { status } = props;
  return (
    <ul class="nodes" aria-label="Nodes">
      {status.nodes.map((n) => (
        <li key={n.name} class={`node ${n.up ? '' : 'node-down'}`} data-node={n.name}>
          <div class="node-head">
            <span class="node-name">{n.name}</span>
            {n.self && <span class="tag">this agent</span>}
          </div>
          <div class="node-address mono">{n.address}</div>
          <div class="node-badges">
            <Badge tone={n.up ? 'ok' : 'bad'}>{n.up ? 'Up' : 'Down'}</Badge>
            <Badge
              tone={n.eligible ? 'ok' : 'warn'}
              title={n.reasons.length ? n.reasons.join('; ') : undefined}
            >
              {n.eligible ? 'Eligible' : 'Not eligible'}
            </Badge>
            {n.standby && (
              <Badge tone="warn" title="halo node standby: takes no group; `halo node unstandby` to undo">
                {draining(status, n.name) ? 'Standby · draining' : 'Standby'}
              </Badge>
            )}
          </div>
          {!n.eligible && n.reasons.length > 0 && <p class="node-reasons">{n.reasons.join('; ')}</p>}
          <div class="node-meta">
            {n.self ? 'local' : n.lastSeenAgoMs === null ? 'never seen' : `seen ${ms(n.lastSeenAgoMs)} ago`}
            {n.rttMs !== null && ` · rtt ${ms(n.rttMs)}`}
          </div>
        </li>
      ))}
      <li class={`node node-witness ${status.witness && !status.witness.up ? 'node-down' : ''}`}>
        <div class="node-head">
          <span class="node-name">witness</span>
          <span class="tag">vote only</span>
        </div>
        <div class="node-badges">
          {status.witness ? (
            <Badge tone={status.witness.up ? 'ok' : 'bad'}>{status.witness.up ? 'Up' : 'Down'}</Badge>
          ) : (
            <Badge tone="muted">Not configured</Badge>
          )}
        </div>
        {status.witness && (
          <div class="node-meta">
            {status.witness.lastSeenAgoMs === null
              ? 'never seen'
              : `seen ${ms(status.witness.lastSeenAgoMs)} ago`}
            {status.witness.rttMs !== null && ` · rtt ${ms(status.witness.rttMs)}`}
          </div>
        )}
      </li>
    </ul>
  );
}

/** A node in standby that still owns groups is moving them away. */
function draining(status: StatusView, node: string): boolean {
  return status.groups.some((g) => g.owner === node);
}

/** The headline figures, readable at a glance. */
export function Summary(props: { status: StatusView }) {
  const { status } = props;
  const up = status.nodes.filter((n) => n.up).length;
  const active = status.groups.filter((g) => g.owner !== null).length;
  const failing = [...status.monitors, ...status.groups.flatMap((g) => g.monitors)].filter(
    (m) => m.state === 'failing',
  ).length;
  return (
    <dl class="summary" aria-label="Cluster summary">
      <div class={status.quorum ? 'ok' : 'bad'}>
        <dt>Quorum</dt>
        <dd>{status.quorum ? (status.quarantined ? 'Held · quarantined' : 'Held') : 'Lost'}</dd>
      </div>
      <div class={up === status.nodes.length ? 'ok' : 'warn'}>
        <dt>Nodes up</dt>
        <dd>
          {up} of {status.nodes.length}
        </dd>
      </div>
      <div class={!status.witness ? '' : status.witness.up ? 'ok' : 'warn'}>
        <dt>Witness</dt>
        <dd>{status.witness ? (status.witness.up ? 'Up' : 'Down') : 'None'}</dd>
      </div>
      <div class={active === status.groups.length ? 'ok' : 'warn'}>
        <dt>Groups active</dt>
        <dd>
          {active} of {status.groups.length}
        </dd>
      </div>
      <div class={failing === 0 ? 'ok' : 'bad'}>
        <dt>Monitors</dt>
        <dd>{failing} failing</dd>
      </div>
    </dl>
  );
}
