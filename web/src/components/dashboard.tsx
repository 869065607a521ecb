import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ApiError } from '../api';
import { ago } from '../format';
import type { Access, StatusView } from '../types';
import { useEvents, useStatus } from '../use-cluster';
import { GroupCard } from './group-card';
import { MonitorTable } from './monitor-table';
import { Nodes, Summary } from './nodes';
import { type Operation, OperationDialog } from './operations';
import { Timeline } from './timeline';
import { Badge, Logo, Panel } from './ui';

/** The signed-in page: summary, groups, nodes and node monitors, and the live timeline. */
export function Dashboard(props: {
  token: string;
  access: Access;
  onLogout: (notice: string | null) => void;
}) {
  const { token, access } = props;
  const onUnauthorized = useCallback(
    (_err: ApiError) => props.onLogout('The agent no longer accepts this token. Sign in again.'),
    [props.onLogout],
  );
  const { status, error, updatedAt, refresh } = useStatus(token, onUnauthorized);
  const { events, stream } = useEvents(token, refresh);
  const [op, setOp] = useState<Operation | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const [toast, setToast] = useState<string | null>(null);
  const canOperate = access === 'read-write';

  useOwnerAnnouncements(status, setAnnouncement);
  useEffect(() => {
    if (!toast) return;
    const t = setTimeout(() => setToast(null), 6000);
    return () => clearTimeout(t);
  }, [toast]);

  const closeOp = (done: string | null) => {
    setOp(null);
    if (done) {
      setToast(done);
      setAnnouncement(done);
      refresh();
    }
  };

  return (
    <div class="app">
      <a class="skip-link" href="#groups-title">
        Skip to groups
      </a>
      <header class="topbar">
        <div class="brand">
          <Logo />
          <span class="brand-name">Halo</span>
          {status && (
            <span class="brand-cluster">
              <span class="sr-only">cluster </span>
              {status.cluster}
            </span>
          )}
        </div>
        <div class="topbar-right">
          {status && (
            <span class="via">
              via <strong>{status.node}</strong>
            </span>
          )}
          {status?.maintenance && (
            <Badge
              tone="warn"
              title="halo maintenance on: no group is managed; `halo maintenance off` to undo"
            >
              Cluster maintenance
            </Badge>
          )}
          <Badge tone={canOperate ? 'info' : 'warn'}>{canOperate ? 'Read-write' : 'Read-only'}</Badge>
          <button type="button" class="btn btn-ghost" onClick={() => props.onLogout(null)}>
            Sign out
          </button>
        </div>
      </header>

      <div class="sr-only" aria-live="polite" role="status">
        {announcement}
      </div>
      {toast && (
        <div class="toast" aria-hidden="true">
          {toast}
        </div>
      )}

      {error && (
        <div class="banner banner-bad" role="alert">
          {status ? 'Lost contact with the agent: ' : 'Cannot read the cluster status: '}
          {error.message} <code>{error.code}</code>
          {status && updatedAt && <span> — showing data from {ago(new Date(updatedAt).toISOString())}.</span>}
        </div>
      )}

      {!status ? (
        <main class="loading" aria-busy="true">
          Loading the cluster status…
        </main>
      ) : (
        <div class="layout">
          <main class="main" id="main">
            <h1 class="sr-only">Cluster {status.cluster}</h1>
            <Summary status={status} />
            <Panel id="nodes" title="Nodes">
              <Nodes status={status} />
              <MonitorTable
                monitors={status.monitors}
                caption={`Node monitors on ${status.node}`}
                canOperate={canOperate}
                onOperate={setOp}
              />
            </Panel>
            <Panel id="groups" title="Failover groups">
              {status.groups.length === 0 && <p class="muted">No groups are configured.</p>}
              <div class="groups">
                {status.groups.map((g) => (
                  <GroupCard
                    key={g.name}
                    group={g}
                    status={status}
                    canOperate={canOperate}
                    onOperate={setOp}
                  />
                ))}
              </div>
            </Panel>
          </main>
          <aside class="side" aria-label="Events">
            <Timeline events={events} stream={stream} />
          </aside>
        </div>
      )}

      {op && status && <OperationDialog op={op} token={token} status={status} onClose={closeOp} />}
    </div>
  );
}

/** Announces ownership changes to screen readers; the visible owner updates in place. */
function useOwnerAnnouncements(status: StatusView | null, announce: (text: string) => void) {
  const owners = useRef<Map<string, string | null> | null>(null);
  useEffect(() => {
    if (!status) return;
    const next = new Map(status.groups.map((g) => [g.name, g.owner]));
    const before = owners.current;
    owners.current = next;
    if (!before) return;
    const changes = [...next].filter(([name, owner]) => before.has(name) && before.get(name) !== owner);
    if (changes.length === 0) return;
    announce(
      changes
        .map(([name, owner]) =>
          owner ? `Group ${name} is now active on ${owner}.` : `Group ${name} is down.`,
        )
        .join(' '),
    );
  }, [status, announce]);
}
