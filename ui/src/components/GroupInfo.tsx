import { useEffect, useState } from "react";
import {
  addGroupMembers,
  groupMembers,
  leaveGroup,
  removeGroupMember,
  renameGroup,
  type IpcError,
  type Member,
} from "../ipc";
import { useI18n } from "../i18n";
import { useSocial } from "../lib/social";
import { displayName, rememberUser } from "../lib/users";
import { Avatar } from "./Avatar";
import { ConfirmDialog } from "./ConfirmDialog";
import { FriendPicker, toggled } from "./FriendPicker";
import { CloseIcon, EditIcon, LogOutIcon, UserPlusIcon } from "./icons";
import { MAX_GROUP_NAME } from "./NewGroup";

interface Props {
  groupId: string;
  me: string;
  onClose: () => void;
  /** After leaving: the chat closes. */
  onLeft: () => void;
}

/** Owner first, then by join time. */
export function sortMembers(list: Member[]): Member[] {
  return list.slice().sort((a, b) => Number(b.role === "owner") - Number(a.role === "owner") || a.joined_at - b.joined_at);
}

/** The side panel of a group chat: name (rename), members (invite, remove: owner only), leave. */
export function GroupInfo({ groupId, me, onClose, onLeft }: Props) {
  const { t, errorText } = useI18n();
  const social = useSocial();
  const group = social.group(groupId);
  const [members, setMembers] = useState<Member[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState("");
  const [inviting, setInviting] = useState(false);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [confirm, setConfirm] = useState<{ kind: "leave" } | { kind: "remove"; member: Member } | null>(null);

  // Reload the members whenever the group changes (an event renamed it or changed its members).
  // Waits for the groups list so the first load is not repeated when it arrives.
  const version = group ? `${group.member_count}:${group.owner}` : "";
  const ready = social.groupsLoaded;
  useEffect(() => {
    if (!ready) return;
    let live = true;
    groupMembers(groupId)
      .then((list) => {
        if (!live) return;
        list.forEach(rememberUser);
        setMembers(sortMembers(list));
      })
      .catch((e: IpcError) => live && setError(errorText(e)));
    return () => {
      live = false;
    };
  }, [groupId, version, ready, errorText]);

  const run = async (f: () => Promise<void>) => {
    setError(null);
    try {
      await f();
    } catch (e) {
      setError(errorText(e as IpcError));
    }
  };

  const iAmOwner = group?.owner === me;
  const memberIds = new Set((members ?? []).map((m) => m.user_id));
  const invitable = social.friends.filter((f) => !memberIds.has(f.user_id));
  const count = group?.member_count ?? members?.length ?? 0;
  const title = group?.name ?? groupId;

  return (
    <aside className="info-panel" data-testid="group-info" aria-label={t("group.info")}>
      <header className="info-header">
        <h2>{t("group.info")}</h2>
        <button type="button" className="icon-btn" onClick={onClose} aria-label={t("common.close")} title={t("common.close")}>
          <CloseIcon />
        </button>
      </header>
      <div className="info-body">
        <div className="info-hero">
          <Avatar id={groupId} name={title} size={72} />
          {editing ? (
            <form
              className="inline rename"
              onSubmit={(e) => {
                e.preventDefault();
                const n = name.trim();
                if (!n) return;
                void run(async () => {
                  social.upsertGroup(await renameGroup(groupId, n));
                  setEditing(false);
                });
              }}
            >
              <input
                className="input"
                value={name}
                maxLength={MAX_GROUP_NAME}
                autoFocus
                aria-label={t("group.name")}
                onChange={(e) => setName(e.target.value)}
                data-testid="group-name-input"
              />
              <button type="submit" className="btn primary" disabled={!name.trim()} data-testid="group-name-save">
                {t("group.save")}
              </button>
            </form>
          ) : (
            <div className="info-title">
              <span className="info-name" data-testid="group-info-name">
                {title}
              </span>
              <button
                type="button"
                className="icon-btn small"
                onClick={() => {
                  setName(group?.name ?? "");
                  setEditing(true);
                }}
                aria-label={t("group.rename")}
                title={t("group.rename")}
                data-testid="group-rename"
              >
                <EditIcon />
              </button>
            </div>
          )}
          <div className="muted">{count === 1 ? t("group.member1") : t("group.members", { n: count })}</div>
        </div>
        {error && (
          <div className="form-error" role="alert">
            {error}
          </div>
        )}
        <section className="info-section">
          <button type="button" className="contact-action" onClick={() => setInviting((v) => !v)} data-testid="group-invite">
            <span className="action-icon">
              <UserPlusIcon />
            </span>
            {t("group.invite")}
          </button>
          {inviting &&
            (invitable.length === 0 ? (
              <div className="muted pad">{t("group.noneToInvite")}</div>
            ) : (
              <div className="invite">
                <FriendPicker
                  friends={invitable}
                  selected={picked}
                  online={social.online}
                  onToggle={(id) => setPicked((s) => toggled(s, id))}
                />
                <button
                  type="button"
                  className="btn primary wide"
                  disabled={picked.size === 0}
                  data-testid="group-invite-add"
                  onClick={() =>
                    void run(async () => {
                      social.upsertGroup(await addGroupMembers(groupId, [...picked]));
                      setPicked(new Set());
                      setInviting(false);
                    })
                  }
                >
                  {t("group.inviteAdd", { n: picked.size })}
                </button>
              </div>
            ))}
          <ul className="contact-list members" data-testid="group-members">
            {(members ?? []).map((m) => {
              const n = displayName(m, m.user_id);
              const friendOnline = social.isFriend(m.user_id) ? (social.online[m.user_id] ?? false) : undefined;
              return (
                <li key={m.user_id} className="contact-row" data-testid="group-member" data-id={m.user_id} data-role={m.role}>
                  <Avatar id={m.user_id} name={n} size={36} online={friendOnline} />
                  <div className="contact-body">
                    <div className="contact-name">
                      {n}
                      {m.user_id === me && <span className="muted"> ({t("group.you")})</span>}
                    </div>
                    <div className="contact-sub">@{m.username}</div>
                  </div>
                  {m.role === "owner" && <span className="tag owner">{t("group.owner")}</span>}
                  {iAmOwner && m.user_id !== me && (
                    <button
                      type="button"
                      className="btn small danger"
                      onClick={() => setConfirm({ kind: "remove", member: m })}
                      data-testid="remove-member"
                    >
                      {t("group.remove")}
                    </button>
                  )}
                </li>
              );
            })}
          </ul>
        </section>
        <button type="button" className="btn danger wide leave" onClick={() => setConfirm({ kind: "leave" })} data-testid="leave-group">
          <LogOutIcon /> {t("group.leave")}
        </button>
      </div>
      {confirm?.kind === "leave" && (
        <ConfirmDialog
          title={t("group.leave")}
          text={t("group.leaveConfirm", { name: title })}
          confirmLabel={t("group.leave")}
          onConfirm={async () => {
            await leaveGroup(groupId);
            social.dropGroup(groupId);
            onLeft();
          }}
          onClose={() => setConfirm(null)}
        />
      )}
      {confirm?.kind === "remove" && (
        <ConfirmDialog
          title={t("group.remove")}
          text={t("group.removeConfirm", { name: displayName(confirm.member, confirm.member.user_id) })}
          confirmLabel={t("group.remove")}
          onConfirm={async () => {
            await removeGroupMember(groupId, confirm.member.user_id);
            setMembers((cur) => cur && cur.filter((x) => x.user_id !== confirm.member.user_id));
          }}
          onClose={() => setConfirm(null)}
        />
      )}
    </aside>
  );
}
