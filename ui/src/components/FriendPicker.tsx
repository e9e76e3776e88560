import { useState } from "react";
import type { Friend } from "../ipc";
import { useI18n } from "../i18n";
import { displayName } from "../lib/users";
import { Avatar } from "./Avatar";

interface Props {
  friends: Friend[];
  selected: ReadonlySet<string>;
  onToggle: (userId: string) => void;
  online: Record<string, boolean>;
}

/** A filterable checklist of friends (new group, invite to a group). */
export function FriendPicker({ friends, selected, onToggle, online }: Props) {
  const { t } = useI18n();
  const [filter, setFilter] = useState("");
  const f = filter.trim().toLowerCase();
  const shown = f
    ? friends.filter((x) => displayName(x, x.user_id).toLowerCase().includes(f) || x.username.toLowerCase().includes(f))
    : friends;
  return (
    <div className="picker">
      <input
        className="input"
        type="search"
        value={filter}
        placeholder={t("newgroup.filter")}
        aria-label={t("newgroup.filter")}
        onChange={(e) => setFilter(e.target.value)}
      />
      <ul className="user-results picker-list">
        {shown.map((x) => {
          const name = displayName(x, x.user_id);
          return (
            <li key={x.user_id}>
              <label className="user-row pick" data-testid="pick-friend" data-id={x.user_id}>
                <input type="checkbox" checked={selected.has(x.user_id)} onChange={() => onToggle(x.user_id)} />
                <Avatar id={x.user_id} name={name} size={32} online={online[x.user_id] ?? x.online} />
                <span className="user-name">{name}</span>
                <span className="user-meta">@{x.username}</span>
              </label>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

/** Toggles an id in a set (a new set, for React state). */
export function toggled(set: ReadonlySet<string>, id: string): Set<string> {
  const next = new Set(set);
  if (next.has(id)) next.delete(id);
  else next.add(id);
  return next;
}
