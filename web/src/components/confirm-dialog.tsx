import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api';

/**
 * A modal confirmation for every operation. The native <dialog> gives focus trapping, Esc
 * and an inert page for free. A refused operation keeps the dialog open with the agent's
 * reason, so the operator sees why and can pick another target or cancel.
 */
export function ConfirmDialog(props: {
  title: string;
  confirmLabel: string;
  busyLabel: string;
  danger?: boolean;
  children: ComponentChildren;
  onConfirm: () => Promise<string | undefined>;
  onClose: (done: string | null) => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ code: string; message: string } | null>(null);
  const onClose = useRef(props.onClose);
  onClose.current = props.onClose;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    dialog.showModal();
    const cancel = (e: Event) => {
      e.preventDefault();
      onClose.current(null);
    };
    dialog.addEventListener('cancel', cancel);
    return () => {
      dialog.removeEventListener('cancel', cancel);
      if (dialog.open) dialog.close();
    };
  }, []);

  const confirm = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const message = await props.onConfirm();
      props.onClose(message ?? props.title);
    } catch (err) {
      setError(
        err instanceof ApiError
          ? { code: err.code, message: err.message }
          : { code: 'HALO_E_INTERNAL', message: String(err) },
      );
      setBusy(false);
    }
  };

  return (
    <dialog ref={ref} class="dialog" aria-labelledby="dialog-title" aria-describedby="dialog-body">
      <form method="dialog" onSubmit={confirm}>
        <h2 id="dialog-title">{props.title}</h2>
        <div id="dialog-body" class="dialog-body">
          {props.children}
        </div>
        {error && (
          <div class="dialog-error" role="alert">
            <strong>Refused:</strong> {error.message} <code>{error.code}</code>
          </div>
        )}
        <div class="dialog-actions">
          <button type="button" class="btn" onClick={() => props.onClose(null)} disabled={busy}>
            Cancel
          </button>
          <button type="submit" class={`btn ${props.danger ? 'btn-danger' : 'btn-primary'}`} disabled={busy}>
            {busy ? props.busyLabel : props.confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
