import { useEffect, useState } from "react";
import { searchUsers, type IpcError, type User } from "../ipc";
import { useI18n } from "../i18n";
import { useSocial } from "../lib/social";
import { displayName, rememberUser } from "../lib/users";
import { Avatar } from "./Avatar";
import { UsersIcon } from "./icons";
import { Modal } from "./Modal";

interface Props {
  onOpen: (userId: string) => void;
  onClose: () => void;
  onNewGroup?: () => void;
}

/** Start a chat: friends first (filtered by the query), then other users found by name. */
export function NewChat({ onOpen, onClose, onNewGroup }: Props) {
  const { t, errorText } = useI18n();
  const social = useSocial();
  const [query, setQuery] = useState("");
  const [results, setResults] = useState<{ q: string; users: User[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const q = query.trim();

  useEffect(() => {
    if (!q) return;
    let live = true;
    const timer = window.setTimeout(() => {
      searchUsers(q)
        .then((users) => {
          if (!live) return;
          users.forEach(rememberUser);
          setResults({ q, users });
          setError(null);
        })
        .catch((e: IpcError) => live && setError(errorText(e)));
    }, 200);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [q, errorText]);

  const current = results && results.q === q ? results.users : null;
  const ql = q.toLowerCase();
  const friends = q
    ? social.friends.filter(
        (f) => displayName(f, f.user_id).toLowerCase().includes(ql) || f.username.toLowerCase().includes(ql) || f.user_id === q,
      )
    : social.friends;
  // Friends are listed above: the search results show only the others.
  const others = current?.filter((u) => !social.isFriend(u.user_id)) ?? null;
  const looksLikeId = /^[0-9A-Za-z_-]{1,64}$/.test(q);

  return (
    <Modal title={t("newchat.title")} onClose={onClose} testId="new-chat">
      <input
        className="input"
        data-testid="new-chat-query"
        autoFocus
        type="search"
        value={query}
        placeholder={t("newchat.search")}
        aria-label={t("newchat.search")}
        onChange={(e) => setQuery(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && q) {
            const exact = current?.find((u) => u.username === q || u.user_id === q);
            onOpen(exact ? exact.user_id : q);
          }
        }}
      />
      {error && (
        <div className="form-error" role="alert">
          {error}
        </div>
      )}
      <ul className="user-results">
        {!q && onNewGroup && (
          <li>
            <button type="button" className="user-row action" onClick={onNewGroup} data-testid="new-chat-group">
              <span className="action-icon">
                <UsersIcon />
              </span>
              <span className="user-name">{t("newchat.newGroup")}</span>
            </button>
          </li>
        )}
        {friends.length > 0 && <li className="list-section">{t("newchat.friends")}</li>}
        {friends.map((f) => (
          <li key={f.user_id}>
            <button type="button" className="user-row" onClick={() => onOpen(f.user_id)} data-testid="new-chat-friend" data-id={f.user_id}>
              <Avatar id={f.user_id} name={displayName(f, f.user_id)} size={36} online={social.online[f.user_id] ?? f.online} />
              <span className="user-name">{displayName(f, f.user_id)}</span>
              <span className="user-meta">@{f.username}</span>
            </button>
          </li>
        ))}
        {q && others !== null && others.length > 0 && <li className="list-section">{t("newchat.others")}</li>}
        {q && current === null && !error && <li className="muted pad">{t("newchat.searching")}</li>}
        {others?.map((u) => (
          <li key={u.user_id}>
            <button type="button" className="user-row" onClick={() => onOpen(u.user_id)}>
              <Avatar id={u.user_id} name={displayName(u, u.user_id)} size={36} />
              <span className="user-name">{displayName(u, u.user_id)}</span>
              <span className="user-meta">
                @{u.username} · {u.user_id}
              </span>
            </button>
          </li>
        ))}
        {others && others.length === 0 && friends.length === 0 && <li className="muted pad">{t("newchat.none")}</li>}
        {q && looksLikeId && !current?.some((u) => u.user_id === q) && (
          <li>
            <button type="button" className="user-row by-id" data-testid="new-chat-open-id" onClick={() => onOpen(q)}>
              {t("newchat.openId", { id: q })}
            </button>
          </li>
        )}
      </ul>
    </Modal>
  );
}
