import { useState } from 'preact/hooks';
import { clock, ms } from '../format';
import type { HaloEvent, Timeline as TimelineData } from '../types';
import type { StreamState } from '../use-cluster';
import { Output } from './ui';

/**
 * The agent's event stream, newest first. A `timeline` event is one node's part of a
 * failover (old owner: detected → decided → stopped; new owner: lease-granted → started →
 * healthy) and is drawn as its phases with the measured time of each.
 */

type Filter = 'all' | 'failovers' | 'problems';

const FILTERS: Array<{ id: Filter; label: string }> = [
  { id: 'all', label: 'All' },
  { id: 'failovers', label: 'Failovers' },
  { id: 'problems', label: 'Warnings' },
];

const PHASE_LABELS: Record<string, string> = {
  detected: 'Detected',
  decided: 'Decided',
  stopped: 'Stopped',
  'lease-granted': 'Lease granted',
  started: 'Started',
  healthy: 'Healthy',
};

function timelineOf(e: HaloEvent): TimelineData | null {
  const t = e.details?.['timeline'] as TimelineData | undefined;
  return e.type === 'timeline' && t && Array.isArray(t.steps) ? t : null;
}

export function Timeline(props: { events: HaloEvent[]; stream: StreamState }) {
  const [filter, setFilter] = useState<Filter>('all');
  const shown = props.events.filter((e) =>
    filter === 'all'
      ? true
      : filter === 'failovers'
        ? e.type === 'timeline'
        : e.level === 'warn' || e.level === 'error' || e.type === 'alert',
  );
  return (
    <section class="panel timeline-panel" aria-labelledby="timeline-title">
      <header class="panel-head">
        <h2 id="timeline-title">Timeline</h2>
        <span class={`stream stream-${props.stream}`} role="status">
          <span class="badge-dot" aria-hidden="true" />
          {props.stream === 'live' ? 'Live' : props.stream === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
        </span>
      </header>
      <fieldset class="filters">
        <legend class="sr-only">Show events</legend>
        {FILTERS.map((f) => (
          <button
            key={f.id}
            type="button"
            class="chip"
            aria-pressed={filter === f.id}
            onClick={() => setFilter(f.id)}
          >
            {f.label}
          </button>
        ))}
      </fieldset>
      <ol
        class="events"
        aria-label="Cluster events, newest first"
        aria-live="polite"
        aria-relevant="additions"
      >
        {shown.length === 0 && <li class="events-empty muted">No events yet.</li>}
        {shown.map((e) => (
          <EventItem key={`${e.node}#${e.seq}`} event={e} />
        ))}
      </ol>
    </section>
  );
}

function EventItem(props: { event: HaloEvent }) {
  const e = props.event;
  const timeline = timelineOf(e);
  const level = e.level ?? 'info';
  // Group monitors are keyed `group/name`: do not repeat the group.
  const monitor =
    e.monitor && e.group && e.monitor.startsWith(`${e.group}/`)
      ? e.monitor.slice(e.group.length + 1)
      : e.monitor;
  const scope = [e.group, e.resource, monitor].filter(Boolean).join(' / ');
  return (
    <li class={`event event-${level} ${timeline ? 'event-failover' : ''}`} data-type={e.type}>
      <div class="event-meta">
        <time dateTime={e.ts}>{clock(e.ts)}</time>
        <span class={`type type-${e.type}`}>{timeline ? 'failover' : e.type}</span>
        <span class="event-node">{e.node}</span>
        {level !== 'info' && <span class="sr-only">{level}</span>}
      </div>
      {timeline ? (
        <FailoverSteps timeline={timeline} />
      ) : (
        <p class="event-message">
          {scope && <span class="event-scope">{scope}: </span>}
          {e.message}
        </p>
      )}
      {e.output && <Output text={e.output} label="Command output" />}
    </li>
  );
}

/** Phases of a failover with the measured time of each; `node` per step when both halves are joined. */
export function PhaseList(props: {
  label: string;
  steps: Array<{ phase: string; at: string; durationMs: number; node?: string }>;
  totalMs: number;
}) {
  const total = Math.max(1, props.totalMs);
  return (
    <>
      <div class="phase-bar" aria-hidden="true">
        {props.steps
          .filter((s) => s.durationMs > 0)
          .map((s) => (
            <span key={s.phase} class={`seg seg-${s.phase}`} style={{ flexGrow: s.durationMs / total }} />
          ))}
      </div>
      <ol class="phases" aria-label={props.label}>
        {props.steps.map((s) => (
          <li key={s.phase} class={`phase phase-${s.phase}`}>
            <span class="phase-name">
              {PHASE_LABELS[s.phase] ?? s.phase}
              {s.node && <span class="phase-node"> on {s.node}</span>}
            </span>
            <span class="phase-ms">+{ms(s.durationMs)}</span>
            <time class="phase-at" dateTime={s.at}>
              {clock(s.at)}
            </time>
          </li>
        ))}
      </ol>
    </>
  );
}

function FailoverSteps(props: { timeline: TimelineData }) {
  const t = props.timeline;
  return (
    <div class="failover">
      <p class="event-message">
        <strong>{t.group}</strong> on {t.node}: {t.reason}
        <span class="failover-total">{ms(t.totalMs)}</span>
      </p>
      <PhaseList
        label={`Phases of the failover of ${t.group} on ${t.node}`}
        steps={t.steps}
        totalMs={t.totalMs}
      />
    </div>
  );
}
