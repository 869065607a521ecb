import { ago, ms } from '../format';
import type { GroupView, ResourceView, StatusView } from '../types';
import { MonitorTable } from './monitor-table';
import type { Operation } from './operations';
import { PhaseList } from './timeline';
import { Badge, Cell, Output, type Tone } from './ui';

/**
 * One failover group: who owns it cluster-wide, then its resources and monitors as this
 * agent sees them (a node only runs — and so only knows the details of — what it owns).
 */

function groupBadge(g: GroupView, self: string): { tone: Tone; text: string } {
  if (g.state === 'failed-stop') return { tone: 'bad', text: 'Stop failed' };
  if (g.owner === null) {
    if (g.intent.state === 'stopped') return { tone: 'muted', text: 'Stopped' };
    return g.failed ? { tone: 'bad', text: 'Failed everywhere' } : { tone: 'bad', text: 'Down' };
  }
  if (g.owner !== self) return { tone: 'ok', text: `Active on ${g.owner}` };
  const local: Record<GroupView['state'], { tone: Tone; text: string }> = {
    running: { tone: 'ok', text: 'Running' },
    starting: { tone: 'info', text: 'Starting' },
    stopping: { tone: 'warn', text: 'Stopping' },
    stopped: { tone: 'info', text: 'Starting' },
    'failed-stop': { tone: 'bad', text: 'Stop failed' },
  };
  return local[g.state];
}

function handover(from: string | null, to: string | null): string {
  if (from && to) return `${from} → ${to}`;
  if (to) return `taken by ${to}`;
  return from ? `stopped on ${from}, waiting for a new owner` : '';
}

const RESOURCE_TONES: Record<ResourceView['state'], Tone> = {
  running: 'ok',
  starting: 'info',
  stopping: 'warn',
  stopped: 'muted',
  failed: 'bad',
};

export function GroupCard(props: {
  group: GroupView;
  status: StatusView;
  canOperate: boolean;
  onOperate: (op: Operation) => void;
}) {
  const { group: g, status } = props;
  const badge = groupBadge(g, status.node);
  const id = `group-${g.name}`;
  const pending = Object.entries(g.pending);
  return (
    <article class="group" aria-labelledby={`${id}-title`} data-group={g.name}>
      <header class="group-head">
        <div class="group-title">
          <h3 id={`${id}-title`}>{g.name}</h3>
          <Badge tone={badge.tone}>{badge.text}</Badge>
          {g.maintenance && (
            <Badge
              tone="warn"
              title="halo maintenance on: unmanaged, left as it is (also by the deadman); `halo maintenance off` to undo"
            >
              Maintenance
            </Badge>
          )}
        </div>
        {props.canOperate && (
          <fieldset class="group-actions">
            <legend class="sr-only">Operations on {g.name}</legend>
            {g.intent.state !== 'stopped' && (
              <button
                type="button"
                class="btn"
                onClick={() => props.onOperate({ kind: 'move', group: g.name })}
                aria-label={`Move ${g.name}`}
              >
                Move…
              </button>
            )}
            {(g.intent.state === 'stopped' || g.owner === null) && (
              <button
                type="button"
                class="btn"
                onClick={() => props.onOperate({ kind: 'start', group: g.name })}
                aria-label={`Start ${g.name}`}
              >
                Start
              </button>
            )}
            {g.intent.state !== 'stopped' && (
              <button
                type="button"
                class="btn btn-danger-outline"
                onClick={() => props.onOperate({ kind: 'stop', group: g.name })}
                aria-label={`Stop ${g.name}`}
              >
                Stop
              </button>
            )}
          </fieldset>
        )}
      </header>

      <dl class="facts">
        <div>
          <dt>Owner</dt>
          <dd class="owner" data-testid="owner">
            {g.owner ?? 'none'}
          </dd>
        </div>
        <div>
          <dt>Term</dt>
          <dd class="mono">{g.term ?? '—'}</dd>
        </div>
        <div>
          <dt>Here on {status.node}</dt>
          <dd>
            {g.state} <span class="cell-sub">{ago(g.since)}</span>
          </dd>
        </div>
        <div>
          <dt>Lease valid for</dt>
          <dd>{g.heldHere ? ms(g.leaseValidForMs) : '—'}</dd>
        </div>
        <div>
          <dt>Intent</dt>
          <dd>
            {g.intent.state}
            {g.intent.preferred ? `, prefers ${g.intent.preferred}` : ''}
          </dd>
        </div>
        {g.intent.failedNodes.length > 0 && (
          <div>
            <dt>Failed on</dt>
            <dd>{g.intent.failedNodes.join(', ')}</dd>
          </div>
        )}
      </dl>

      {g.lastError && (
        <p class="inline-error">
          <strong>Last error:</strong> {g.lastError}
        </p>
      )}

      <div class="table-wrap">
        <table class="data">
          <caption>Resources on {status.node}</caption>
          <thead>
            <tr>
              <th scope="col">Resource</th>
              <th scope="col">State</th>
              <th scope="col">Last check</th>
              <th scope="col">Output</th>
            </tr>
          </thead>
          <tbody>
            {g.resources.map((r) => (
              <tr key={r.name}>
                <Cell header label="Resource">
                  <span class="cell-name">{r.name}</span>
                  <span class="cell-sub">{r.type}</span>
                </Cell>
                <Cell label="State">
                  <Badge tone={RESOURCE_TONES[r.state]}>{r.state}</Badge>
                  <span class="cell-sub">{ago(r.since)}</span>
                </Cell>
                <Cell label="Last check">
                  {r.lastCheck ? (
                    <>
                      <span>
                        {r.lastCheck.state}
                        {r.lastCheck.reason ? `: ${r.lastCheck.reason}` : ''}
                      </span>
                      <span class="cell-sub">{ago(r.lastCheck.at)}</span>
                    </>
                  ) : (
                    <span class="muted">—</span>
                  )}
                  {r.lastError && <span class="cell-error">{r.lastError}</span>}
                </Cell>
                <Cell label="Output">
                  <Output text={r.lastCheck?.output} label={`Check output of ${r.name}`} />
                </Cell>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <MonitorTable
        monitors={g.monitors}
        caption={`Monitors of ${g.name} on ${status.node}`}
        canOperate={props.canOperate}
        onOperate={props.onOperate}
      />

      {g.lastFailover && g.lastFailover.steps.length > 0 && (
        <section class="last-failover" aria-labelledby={`${id}-failover`}>
          <h4 id={`${id}-failover`}>
            Last failover
            <span class="cell-sub">
              {handover(g.lastFailover.from, g.lastFailover.to)} · {g.lastFailover.reason}
            </span>
            <span class="failover-total">
              {ms(g.lastFailover.totalMs)}
              {g.lastFailover.complete ? '' : ' so far'}
            </span>
          </h4>
          <PhaseList
            label={`Phases of the last failover of ${g.name}`}
            steps={g.lastFailover.steps}
            totalMs={g.lastFailover.totalMs}
          />
        </section>
      )}

      {pending.length > 0 && (
        <div class="pending">
          <h4>Pending parameter changes</h4>
          <p class="cell-sub">Applied when the resource next restarts.</p>
          <ul>
            {pending.flatMap(([resource, params]) =>
              Object.entries(params).map(([key, value]) => (
                <li key={`${resource}.${key}`}>
                  <code>
                    {resource}.{key}
                  </code>{' '}
                  → <code>{JSON.stringify(value)}</code>
                </li>
              )),
            )}
          </ul>
        </div>
      )}
    </article>
  );
}
