import { useState } from 'preact/hooks';
import { api } from '../api';
import type { StatusView } from '../types';
import { ConfirmDialog } from './confirm-dialog';

/** The operations the page offers; each goes through a confirmation dialog. */
export type Operation =
  | { kind: 'move'; group: string }
  | { kind: 'start'; group: string }
  | { kind: 'stop'; group: string }
  | { kind: 'suspend'; monitor: string }
  | { kind: 'resume'; monitor: string };

const AUTO = '';

export function OperationDialog(props: {
  op: Operation;
  token: string;
  status: StatusView;
  onClose: (done: string | null) => void;
}) {
  const { op, token, status } = props;
  switch (op.kind) {
    case 'move':
      return <MoveDialog group={op.group} token={token} status={status} onClose={props.onClose} />;
    case 'start':
      return (
        <ConfirmDialog
          title={`Start ${op.group}?`}
          confirmLabel="Start group"
          busyLabel="Starting…"
          onConfirm={async () => (await api.start(token, op.group)).message}
          onClose={props.onClose}
        >
          <p>
            The group is started on the best eligible node, and any failure marks on its nodes are cleared.
          </p>
        </ConfirmDialog>
      );
    case 'stop':
      return (
        <ConfirmDialog
          title={`Stop ${op.group}?`}
          confirmLabel="Stop group"
          busyLabel="Stopping…"
          danger
          onConfirm={async () => (await api.stop(token, op.group)).message}
          onClose={props.onClose}
        >
          <p>
            Every resource of <strong>{op.group}</strong> is stopped on every node and the group stays down
            until it is started again — also across agent restarts. Clients lose the service.
          </p>
        </ConfirmDialog>
      );
    case 'suspend':
      return (
        <ConfirmDialog
          title={`Suspend monitor ${op.monitor}?`}
          confirmLabel="Suspend monitor"
          busyLabel="Suspending…"
          onConfirm={async () => (await api.suspendMonitor(token, op.monitor)).message}
          onClose={props.onClose}
        >
          <p>The monitor stops probing and takes no recovery action until it is resumed.</p>
        </ConfirmDialog>
      );
    case 'resume':
      return (
        <ConfirmDialog
          title={`Resume monitor ${op.monitor}?`}
          confirmLabel="Resume monitor"
          busyLabel="Resuming…"
          onConfirm={async () => (await api.resumeMonitor(token, op.monitor)).message}
          onClose={props.onClose}
        >
          <p>The monitor probes again and acts on failures as configured.</p>
        </ConfirmDialog>
      );
  }
}

function MoveDialog(props: {
  group: string;
  token: string;
  status: StatusView;
  onClose: (done: string | null) => void;
}) {
  const group = props.status.groups.find((g) => g.name === props.group);
  const owner = group?.owner ?? null;
  const names = group?.nodes ?? props.status.nodes.map((n) => n.name);
  const candidates = props.status.nodes.filter((n) => names.includes(n.name) && n.name !== owner);
  const preferred = candidates.find((n) => n.up && n.eligible) ?? candidates[0];
  const [target, setTarget] = useState(preferred?.name ?? AUTO);

  return (
    <ConfirmDialog
      title={`Move ${props.group}?`}
      confirmLabel="Move group"
      busyLabel="Moving…"
      onConfirm={async () => (await api.move(props.token, props.group, target || undefined)).message}
      onClose={props.onClose}
    >
      <p>
        {owner ? (
          <>
            The group's resources stop on <strong>{owner}</strong>, its lease is released, and the target node
            starts them. Clients see a short interruption.
          </>
        ) : (
          <>The group has no owner now; the target node is preferred when it starts.</>
        )}
      </p>
      <label for="move-target">Move to</label>
      <select
        id="move-target"
        value={target}
        onChange={(e) => setTarget((e.target as HTMLSelectElement).value)}
      >
        {candidates.map((n) => (
          <option key={n.name} value={n.name}>
            {n.name}
            {!n.up ? ' (down)' : !n.eligible ? ' (not eligible)' : ''}
          </option>
        ))}
        <option value={AUTO}>Best available node</option>
      </select>
    </ConfirmDialog>
  );
}
