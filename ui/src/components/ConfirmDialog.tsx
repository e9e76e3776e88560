import { useState } from "react";
import type { IpcError } from "../ipc";
import { useI18n } from "../i18n";
import { Modal } from "./Modal";

interface Props {
  title: string;
  text: string;
  confirmLabel: string;
  /** Runs the action; the dialog closes when it resolves and shows the error when it fails. */
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
}

/** "Are you sure?" for destructive actions (remove a friend, remove a member, leave a group). */
export function ConfirmDialog({ title, text, confirmLabel, onConfirm, onClose }: Props) {
  const { t, errorText } = useI18n();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (e) {
      setError(errorText(e as IpcError));
      setBusy(false);
    }
  };
  return (
    <Modal title={title} onClose={onClose} testId="confirm-dialog">
      <p className="confirm-text">{text}</p>
      {error && (
        <div className="form-error" role="alert">
          {error}
        </div>
      )}
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={onClose}>
          {t("common.cancel")}
        </button>
        <button type="button" className="btn danger-solid" onClick={() => void confirm()} disabled={busy} data-testid="confirm-ok" autoFocus>
          {confirmLabel}
        </button>
      </div>
    </Modal>
  );
}
