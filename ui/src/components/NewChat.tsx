import { useEffect, useState } from "react";
import { searchUsers, type IpcError, type User } from "../ipc";
import { useI18n } from "../i18n";
import { displayName, rememberUser } from "../lib/users";
import { Avatar } from "./Avatar";
import { Modal } from "./Modal";

export function NewChat({ onOpen, onClose }: { onOpen: (userId: string) => void; onClose: () => void }) {
  const { t, errorText } = useI18n();
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
        {q && current === null && !error && <li className="muted pad">{t("newchat.searching")}</li>}
        {current?.map((u) => (
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
        {current && current.length === 0 && <li className="muted pad">{t("newchat.none")}</li>}
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
