import { ago, ms } from '../format';
import type { MonitorView } from '../types';
import type { Operation } from './operations';
import { Badge, Cell, Output, type Tone } from './ui';

const TONES: Record<MonitorView['state'], Tone> = {
  passing: 'ok',
  failing: 'bad',
  suspended: 'warn',
  pending: 'info',
  inactive: 'muted',
};

/** Monitors with their state, last result and output; suspend/resume for read-write sessions. */
export function MonitorTable(props: {
  monitors: MonitorView[];
  caption: string;
  canOperate: boolean;
  onOperate: (op: Operation) => void;
}) {
  if (props.monitors.length === 0) return null;
  return (
    <div class="table-wrap">
      <table class="data">
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">Monitor</th>
            <th scope="col">State</th>
            <th scope="col">Last result</th>
            <th scope="col">Output</th>
            {props.canOperate && (
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {props.monitors.map((m) => (
            <tr key={m.key}>
              <Cell header label="Monitor">
                <span class="cell-name">{m.name}</span>
                <span class="cell-sub">
                  {m.type}
                  {m.target ? ` · on ${m.target}` : ''}
                </span>
              </Cell>
              <Cell label="State">
                <Badge tone={TONES[m.state]}>{m.state}</Badge>
                {m.consecutiveFailures > 0 && (
                  <span class="cell-sub">{m.consecutiveFailures} consecutive failures</span>
                )}
              </Cell>
              <Cell label="Last result">
                {m.lastResult ? (
                  <>
                    <span>
                      {m.lastResult.ok ? 'ok' : m.lastResult.status} in {ms(m.lastResult.durationMs)}
                    </span>
                    <span class="cell-sub">{ago(m.lastResult.at)}</span>
                  </>
                ) : (
                  <span class="muted">not run yet</span>
                )}
              </Cell>
              <Cell label="Output">
                <Output text={m.lastOutput} label={`Output of ${m.name}`} />
              </Cell>
              {props.canOperate && (
                <Cell label="Actions" class="cell-actions">
                  {m.suspended ? (
                    <button
                      type="button"
                      class="btn btn-small"
                      onClick={() => props.onOperate({ kind: 'resume', monitor: m.key })}
                      aria-label={`Resume monitor ${m.key}`}
                    >
                      Resume
                    </button>
                  ) : (
                    <button
                      type="button"
                      class="btn btn-small"
                      onClick={() => props.onOperate({ kind: 'suspend', monitor: m.key })}
                      aria-label={`Suspend monitor ${m.key}`}
                    >
                      Suspend
                    </button>
                  )}
                </Cell>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
