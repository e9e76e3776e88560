import { useState } from "react";
import { removeFriend, respondFriendRequest, type Friend, type FriendRequest, type IpcError } from "../ipc";
import { useI18n } from "../i18n";
import { useSocial } from "../lib/social";
import { displayName } from "../lib/users";
import { Avatar } from "./Avatar";
import { ConfirmDialog } from "./ConfirmDialog";
import { TrashIcon, UserPlusIcon, UsersIcon } from "./icons";

interface Props {
  onOpenChat: (conversationId: string) => void;
  onAddFriend: () => void;
  onNewGroup: () => void;
}

function IncomingRow({ r, onError }: { r: FriendRequest; onError: (e: string | null) => void }) {
  const { t, errorText } = useI18n();
  const { reloadFriends, reloadRequests } = useSocial();
  const [busy, setBusy] = useState(false);
  const name = displayName(r.from, r.from.user_id);
  const answer = async (accept: boolean) => {
    setBusy(true);
    onError(null);
    try {
      await respondFriendRequest(r.id, accept);
      await Promise.all([reloadRequests(), accept ? reloadFriends() : Promise.resolve()]);
    } catch (e) {
      onError(errorText(e as IpcError));
      setBusy(false);
    }
  };
  return (
    <li className="contact-row request incoming" data-testid="friend-request" data-id={r.id}>
      <Avatar id={r.from.user_id} name={name} size={40} />
      <div className="contact-body">
        <div className="contact-name">
          {/* <bdi>: a right-to-left override in the name must not reverse the handle. */}
          <bdi>{name}</bdi> <span className="contact-handle">@{r.from.username}</span>
        </div>
        {/* The request message is the sender's text: rendered as text only. */}
        {r.message && <div className="request-message">{r.message}</div>}
        <div className="contact-actions">
          <button type="button" className="btn small primary" disabled={busy} onClick={() => void answer(true)} data-testid="accept-request">
            {t("contacts.accept")}
          </button>
          <button type="button" className="btn small" disabled={busy} onClick={() => void answer(false)} data-testid="decline-request">
            {t("contacts.decline")}
          </button>
        </div>
      </div>
    </li>
  );
}

function FriendRow({ f, online, onOpen, onRemove }: { f: Friend; online: boolean; onOpen: () => void; onRemove: () => void }) {
  const { t } = useI18n();
  const name = displayName(f, f.user_id);
  return (
    <li className="contact-row friend" data-testid="friend" data-id={f.user_id} data-online={online}>
      <button type="button" className="contact-main" onClick={onOpen} title={`${name} (@${f.username})`}>
        <Avatar id={f.user_id} name={name} size={40} online={online} />
        <div className="contact-body">
          <div className="contact-name">{name}</div>
          <div className={`contact-sub${online ? " online" : ""}`}>{online ? t("contacts.online") : t("contacts.offline")}</div>
        </div>
      </button>
      <button
        type="button"
        className="icon-btn row-action"
        onClick={onRemove}
        aria-label={`${t("contacts.remove")}: ${name}`}
        title={t("contacts.remove")}
        data-testid="remove-friend"
      >
        <TrashIcon />
      </button>
    </li>
  );
}

/** The Contacts tab of the sidebar: actions, friend requests, groups, friends (online first). */
export function ContactsView({ onOpenChat, onAddFriend, onNewGroup }: Props) {
  const { t } = useI18n();
  const social = useSocial();
  const [error, setError] = useState<string | null>(null);
  const [removing, setRemoving] = useState<Friend | null>(null);
  const groups = social.groups.slice().sort((a, b) => a.name.localeCompare(b.name));

  return (
    <div className="contacts" data-testid="contacts">
      <ul className="contact-list">
        <li>
          <button type="button" className="contact-action" onClick={onAddFriend} data-testid="add-friend-button">
            <span className="action-icon">
              <UserPlusIcon />
            </span>
            {t("contacts.addFriend")}
          </button>
        </li>
        <li>
          <button type="button" className="contact-action" onClick={onNewGroup} data-testid="new-group-button">
            <span className="action-icon">
              <UsersIcon />
            </span>
            {t("contacts.newGroup")}
          </button>
        </li>
      </ul>
      {error && (
        <div className="form-error pad" role="alert">
          {error}
        </div>
      )}
      {social.incoming.length > 0 && (
        <section aria-label={t("contacts.requests")}>
          <h3 className="list-section">{t("contacts.requests")}</h3>
          <ul className="contact-list">
            {social.incoming.map((r) => (
              <IncomingRow key={r.id} r={r} onError={setError} />
            ))}
          </ul>
        </section>
      )}
      {social.outgoing.length > 0 && (
        <section aria-label={t("contacts.sent")}>
          <h3 className="list-section">{t("contacts.sent")}</h3>
          <ul className="contact-list">
            {social.outgoing.map((r) => {
              const name = displayName(r.to, r.to.user_id);
              return (
                <li key={r.id} className="contact-row request" data-testid="outgoing-request" data-id={r.id}>
                  <Avatar id={r.to.user_id} name={name} size={40} />
                  <div className="contact-body">
                    <div className="contact-name">{name}</div>
                    <div className="contact-sub">{r.message || `@${r.to.username}`}</div>
                  </div>
                  <span className="tag">{t("contacts.pending")}</span>
                </li>
              );
            })}
          </ul>
        </section>
      )}
      {groups.length > 0 && (
        <section aria-label={t("contacts.groups", { n: groups.length })}>
          <h3 className="list-section">{t("contacts.groups", { n: groups.length })}</h3>
          <ul className="contact-list">
            {groups.map((g) => (
              <li key={g.group_id} className="contact-row" data-testid="group" data-id={g.group_id}>
                <button type="button" className="contact-main" onClick={() => onOpenChat(g.group_id)}>
                  <Avatar id={g.group_id} name={g.name} size={40} />
                  <div className="contact-body">
                    <div className="contact-name">{g.name}</div>
                    <div className="contact-sub">
                      {g.member_count === 1 ? t("group.member1") : t("group.members", { n: g.member_count })}
                    </div>
                  </div>
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      <section aria-label={t("contacts.friends", { n: social.friends.length })}>
        <h3 className="list-section">{t("contacts.friends", { n: social.friends.length })}</h3>
        {social.friendsLoaded && social.friends.length === 0 ? (
          <div className="list-empty">{t("contacts.noFriends")}</div>
        ) : (
          <ul className="contact-list" data-testid="friend-list">
            {social.friends.map((f) => (
              <FriendRow
                key={f.user_id}
                f={f}
                online={social.online[f.user_id] ?? f.online}
                onOpen={() => onOpenChat(f.user_id)}
                onRemove={() => setRemoving(f)}
              />
            ))}
          </ul>
        )}
      </section>
      {removing && (
        <ConfirmDialog
          title={t("contacts.remove")}
          text={t("contacts.removeConfirm", { name: displayName(removing, removing.user_id) })}
          confirmLabel={t("contacts.remove")}
          onConfirm={async () => {
            await removeFriend(removing.user_id);
            await social.reloadFriends();
          }}
          onClose={() => setRemoving(null)}
        />
      )}
    </div>
  );
}
