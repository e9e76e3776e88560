import { useState } from "react";
import { createGroup, type IpcError } from "../ipc";
import { useI18n } from "../i18n";
import { useSocial } from "../lib/social";
import { FriendPicker, toggled } from "./FriendPicker";
import { Modal } from "./Modal";

export const MAX_GROUP_NAME = 64;

/** Name a group and pick friends; opens the new group's chat. */
export function NewGroup({ onCreated, onClose }: { onCreated: (groupId: string) => void; onClose: () => void }) {
  const { t, errorText } = useI18n();
  const social = useSocial();
  const [name, setName] = useState("");
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ok = name.trim() !== "" && selected.size > 0 && !busy;

  const create = async () => {
    if (!ok) return;
    setBusy(true);
    setError(null);
    try {
      const g = await createGroup(name.trim(), [...selected]);
      social.upsertGroup(g);
      onCreated(g.group_id);
    } catch (e) {
      setError(errorText(e as IpcError));
      setBusy(false);
    }
  };

  return (
    <Modal title={t("newgroup.title")} onClose={onClose} testId="new-group">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <label className="field">
          <span className="field-label">{t("group.name")}</span>
          <input
            className="input"
            value={name}
            maxLength={MAX_GROUP_NAME}
            autoFocus
            onChange={(e) => setName(e.target.value)}
            data-testid="new-group-name"
          />
        </label>
        <div className="field-label picker-head">
          <span>{t("newgroup.pick")}</span>
          <span>{t("newgroup.selected", { n: selected.size })}</span>
        </div>
        {social.friendsLoaded && social.friends.length === 0 ? (
          <div className="muted pad">{t("newgroup.noFriends")}</div>
        ) : (
          <FriendPicker
            friends={social.friends}
            selected={selected}
            online={social.online}
            onToggle={(id) => setSelected((s) => toggled(s, id))}
          />
        )}
        {error && (
          <div className="form-error" role="alert">
            {error}
          </div>
        )}
        <button type="submit" className="btn primary wide" disabled={!ok} data-testid="new-group-create">
          {t("newgroup.create")}
        </button>
      </form>
    </Modal>
  );
}
