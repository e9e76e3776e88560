import { useEffect, useState } from "react";
import { searchUsers, sendFriendRequest, type IpcError, type User } from "../ipc";
import { useI18n } from "../i18n";
import { useSocial } from "../lib/social";
import { displayName, rememberUser, useDisplayName } from "../lib/users";
import { Avatar } from "./Avatar";
import { Modal } from "./Modal";

interface Props {
  me: string;
  /** Opens straight on the request form for this user (from a chat with a non-friend). */
  userId?: string;
  onClose: () => void;
}

function RequestForm({ userId, onDone }: { userId: string; onDone: (text: string) => void }) {
  const { t, errorText } = useI18n();
  const { reloadFriends, reloadRequests } = useSocial();
  const name = useDisplayName(userId);
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const send = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await sendFriendRequest(userId, message.trim());
      // The other side had asked me already: we are friends at once.
      if (r.status === "accepted") {
        await reloadFriends();
        onDone(t("addfriend.nowFriends", { name }));
      } else {
        await reloadRequests();
        onDone(t("addfriend.sent", { name }));
      }
    } catch (e) {
      setError(errorText(e as IpcError));
      setBusy(false);
    }
  };
  return (
    <form
      className="request-form"
      data-testid="add-friend-form"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <div className="request-to">
        <Avatar id={userId} name={name} size={40} />
        <div>
          <div className="user-name">{name}</div>
          <div className="user-meta">ID {userId}</div>
        </div>
      </div>
      <label className="field">
        <span className="field-label">{t("addfriend.message")}</span>
        <textarea
          className="input"
          rows={2}
          maxLength={200}
          value={message}
          placeholder={t("addfriend.messagePlaceholder")}
          onChange={(e) => setMessage(e.target.value)}
          data-testid="add-friend-message"
          autoFocus
        />
      </label>
      {error && (
        <div className="form-error" role="alert">
          {error}
        </div>
      )}
      <button type="submit" className="btn primary wide" disabled={busy} data-testid="add-friend-send">
        {t("addfriend.send")}
      </button>
    </form>
  );
}

/** Find a user by name or id and send a friend request with an optional message. */
export function AddFriend({ me, userId, onClose }: Props) {
  const { t, errorText } = useI18n();
  const social = useSocial();
  const [query, setQuery] = useState("");
  const [results, setResults] = useState<{ q: string; users: User[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [picked, setPicked] = useState<string | null>(userId ?? null);
  const [done, setDone] = useState<string | null>(null);
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
  const requested = new Set(social.outgoing.map((r) => r.to.user_id));

  let body;
  if (done) {
    body = (
      <div className="notice ok" role="status" data-testid="add-friend-done">
        {done}
      </div>
    );
  } else if (picked) {
    body = <RequestForm userId={picked} onDone={setDone} />;
  } else {
    body = (
      <>
        <input
          className="input"
          data-testid="add-friend-query"
          autoFocus
          type="search"
          value={query}
          placeholder={t("addfriend.search")}
          aria-label={t("addfriend.search")}
          onChange={(e) => setQuery(e.target.value)}
        />
        {error && (
          <div className="form-error" role="alert">
            {error}
          </div>
        )}
        <ul className="user-results">
          {q && current === null && !error && <li className="muted pad">{t("newchat.searching")}</li>}
          {current?.map((u) => {
            const name = displayName(u, u.user_id);
            let state;
            if (u.user_id === me) state = <span className="tag">{t("addfriend.self")}</span>;
            else if (social.isFriend(u.user_id)) state = <span className="tag">{t("addfriend.isFriend")}</span>;
            else if (requested.has(u.user_id)) state = <span className="tag">{t("addfriend.requested")}</span>;
            else
              state = (
                <button type="button" className="btn small primary" onClick={() => setPicked(u.user_id)} data-testid="add-friend-pick">
                  {t("addfriend.add")}
                </button>
              );
            return (
              <li key={u.user_id} className="user-row static" data-testid="add-friend-user" data-id={u.user_id}>
                <Avatar id={u.user_id} name={name} size={36} />
                <span className="user-text">
                  <span className="user-name">{name}</span>
                  <span className="user-meta">
                    @{u.username} · {u.user_id}
                  </span>
                </span>
                {state}
              </li>
            );
          })}
          {current && current.length === 0 && <li className="muted pad">{t("newchat.none")}</li>}
        </ul>
      </>
    );
  }

  return (
    <Modal title={t("addfriend.title")} onClose={onClose} testId="add-friend">
      {body}
    </Modal>
  );
}
