import { useCallback, useEffect, useRef, useState } from "react";
import {
  connectionState,
  listConversations,
  markRead,
  on,
  type Account,
  type AppInfo,
  type Conversation,
  type ConnectionState,
  type IpcError,
  type SearchHit,
  type Settings,
} from "../ipc";
import { useI18n } from "../i18n";
import { conversationKind } from "../lib/conversation";
import { SocialProvider, useSocial } from "../lib/social";
import { useDisplayName } from "../lib/users";
import { AddFriend } from "./AddFriend";
import { Avatar } from "./Avatar";
import { ChatView, type ChatFocus } from "./ChatView";
import { ConnectionBanner } from "./ConnectionBanner";
import { ContactsView } from "./ContactsView";
import { ConversationList } from "./ConversationList";
import { GroupInfo } from "./GroupInfo";
import { MessageSearch } from "./MessageSearch";
import { ChatIcon, GearIcon, PlusIcon, UsersIcon } from "./icons";
import { NewChat } from "./NewChat";
import { NewGroup } from "./NewGroup";
import { SettingsPanel } from "./SettingsPanel";

interface Props {
  account: Account;
  settings: Settings;
  info: AppInfo | null;
  onSettingsChange: (s: Settings) => Promise<void>;
  onLogout: () => void;
}

function upsertConversation(list: Conversation[], c: Conversation): Conversation[] {
  const i = list.findIndex((x) => x.id === c.id);
  if (i < 0) return [...list, c];
  const next = list.slice();
  next[i] = c;
  return next;
}

/** The search panel: open or not, limited to one conversation or not. */
interface SearchUi {
  open: boolean;
  scope: string | null;
  focusRequest: number;
}

type Dialog = { kind: "settings" } | { kind: "new" } | { kind: "new-group" } | { kind: "add-friend"; userId?: string };

export function MainWindow(props: Props) {
  return (
    <SocialProvider>
      <Main {...props} />
    </SocialProvider>
  );
}

function Main({ account, settings, info, onSettingsChange, onLogout }: Props) {
  const { t, errorText } = useI18n();
  const social = useSocial();
  const me = useDisplayName(account.user_id);
  const [conversations, setConversations] = useState<Conversation[]>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [conn, setConn] = useState<ConnectionState | null>(null);
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [tab, setTab] = useState<"chats" | "contacts">("chats");
  const [infoOpen, setInfoOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [search, setSearch] = useState<SearchUi>({ open: false, scope: null, focusRequest: 0 });
  // The message a search hit opened (the chat shows the history around it).
  const [focus, setFocus] = useState<(ChatFocus & { conversationId: string }) | null>(null);
  const jumps = useRef(0);

  const select = useCallback((id: string) => {
    setFocus(null);
    setTab("chats");
    setSelected(id);
    setConversations((list) => {
      const c = list.find((x) => x.id === id);
      if (!c) return [...list, { id, last_message_id: null, last_text: null, last_at: Date.now(), unread: 0 }];
      if (c.unread === 0) return list;
      return upsertConversation(list, { ...c, unread: 0 });
    });
    markRead(id).catch(() => {});
  }, []);

  useEffect(() => {
    let live = true;
    listConversations()
      .then((list) => {
        if (!live) return;
        setConversations((cur) => {
          // Keep locally started chats that have no message yet.
          const ids = new Set(list.map((c) => c.id));
          return [...list, ...cur.filter((c) => !ids.has(c.id))];
        });
      })
      .catch((e: IpcError) => live && setError(errorText(e)));
    connectionState()
      .then((s) => live && setConn(s))
      .catch(() => {});
    const offs = [
      on("conversation-updated", (c) => {
        setConversations((list) => upsertConversation(list, c));
      }),
      on("connection-state", (s) => setConn(s)),
      on("open-conversation", ({ conversation_id }) => select(conversation_id)),
      on("unread-total", ({ total }) => {
        document.title = total > 0 ? `(${total}) ${t("app.name")}` : t("app.name");
      }),
    ];
    return () => {
      live = false;
      offs.forEach((f) => f());
    };
  }, [errorText, select, t]);

  const openHit = useCallback(
    (hit: SearchHit) => {
      const m = hit.message;
      select(m.conversation_id);
      setFocus({ conversationId: m.conversation_id, messageId: m.id, nonce: ++jumps.current });
    },
    [select],
  );

  // Ctrl+K: search all chats; Ctrl+F: search the open chat (the chip widens it to all).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey) return;
      const key = e.key.toLowerCase();
      if (key !== "k" && key !== "f") return;
      if (dialog) return;
      e.preventDefault();
      const scope = key === "f" ? selected : null;
      setSearch((s) => ({ open: true, scope, focusRequest: s.focusRequest + 1 }));
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [dialog, selected]);

  // The open chat never shows an unread badge: mark it read when something arrives.
  const onIncoming = useCallback(() => {
    if (selected && document.visibilityState === "visible") markRead(selected).catch(() => {});
  }, [selected]);

  const shown = conversations.map((c) => (c.id === selected && c.unread > 0 ? { ...c, unread: 0 } : c));
  const requests = social.incoming.length;
  const isGroup = selected !== null && conversationKind(selected) === "group";

  return (
    <div className="main-window">
      <aside className="sidebar">
        <header className="sidebar-header">
          <div className="me" title={`${account.username} (${account.user_id})`}>
            <Avatar id={account.user_id} name={me} size={36} />
            <h1 className="sidebar-title">{tab === "chats" ? t("list.title") : t("nav.contacts")}</h1>
          </div>
          <div className="sidebar-actions">
            <button
              type="button"
              className="icon-btn"
              onClick={() => setDialog({ kind: "new" })}
              aria-label={t("list.newChat")}
              title={t("list.newChat")}
              data-testid="new-chat-button"
            >
              <PlusIcon />
            </button>
            <button
              type="button"
              className="icon-btn"
              onClick={() => setDialog({ kind: "settings" })}
              aria-label={t("list.settings")}
              title={t("list.settings")}
              data-testid="settings-button"
            >
              <GearIcon />
            </button>
          </div>
        </header>
        <ConnectionBanner state={conn} />
        {error && (
          <div className="form-error pad" role="alert">
            {error}
          </div>
        )}
        <MessageSearch
          open={search.open}
          scope={search.scope}
          focusRequest={search.focusRequest}
          openedId={focus && focus.conversationId === selected ? focus.messageId : null}
          onOpenChange={(open) => setSearch((s) => ({ ...s, open, scope: open ? s.scope : null }))}
          onClearScope={() => setSearch((s) => ({ ...s, scope: null, focusRequest: s.focusRequest + 1 }))}
          onPick={openHit}
        />
        {!search.open && (
          <nav className="tabs" role="tablist" aria-label={t("app.name")}>
            <button
              type="button"
              role="tab"
              aria-selected={tab === "chats"}
              className={`tab${tab === "chats" ? " active" : ""}`}
              onClick={() => setTab("chats")}
              data-testid="nav-chats"
            >
              <ChatIcon width={16} height={16} />
              {t("nav.chats")}
            </button>
            <button
              type="button"
              role="tab"
              aria-selected={tab === "contacts"}
              className={`tab${tab === "contacts" ? " active" : ""}`}
              onClick={() => setTab("contacts")}
              data-testid="nav-contacts"
            >
              <UsersIcon width={16} height={16} />
              {t("nav.contacts")}
              {requests > 0 && (
                <span className="badge small" data-testid="requests-badge" aria-label={`${requests} ${t("contacts.requests")}`}>
                  {requests}
                </span>
              )}
            </button>
          </nav>
        )}
        {search.open ? null : tab === "chats" ? (
          <ConversationList conversations={shown} selected={selected} onSelect={select} me={account.user_id} />
        ) : (
          <ContactsView
            onOpenChat={select}
            onAddFriend={() => setDialog({ kind: "add-friend" })}
            onNewGroup={() => setDialog({ kind: "new-group" })}
          />
        )}
      </aside>
      <main className="pane">
        {selected ? (
          <div className="pane-row">
            <ChatView
              key={selected}
              conversationId={selected}
              me={account.user_id}
              onIncoming={onIncoming}
              infoOpen={isGroup && infoOpen}
              onToggleInfo={() => setInfoOpen((v) => !v)}
              onAddFriend={(userId) => setDialog({ kind: "add-friend", userId })}
              focus={focus && focus.conversationId === selected ? focus : null}
            />
            {isGroup && infoOpen && (
              // Its own key: a sibling with the chat's key confused React (switching away from a
              // group with the panel open left that group's chat mounted beside the next one).
              <GroupInfo key={`info-${selected}`} groupId={selected} me={account.user_id} onClose={() => setInfoOpen(false)} onLeft={() => setInfoOpen(false)} />
            )}
          </div>
        ) : (
          <div className="pane-empty">
            <div className="pane-empty-card">
              <div className="brand-logo big" aria-hidden="true">
                雁
              </div>
              <p>{t("chat.empty")}</p>
              <p className="muted">{t("chat.emptyHint")}</p>
            </div>
          </div>
        )}
      </main>
      {dialog?.kind === "settings" && (
        <SettingsPanel
          settings={settings}
          account={account}
          info={info}
          onChange={onSettingsChange}
          onLogout={onLogout}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog?.kind === "new" && (
        <NewChat
          onClose={() => setDialog(null)}
          onOpen={(id) => {
            setDialog(null);
            select(id);
          }}
          onNewGroup={() => setDialog({ kind: "new-group" })}
        />
      )}
      {dialog?.kind === "new-group" && (
        <NewGroup
          onClose={() => setDialog(null)}
          onCreated={(id) => {
            setDialog(null);
            select(id);
          }}
        />
      )}
      {dialog?.kind === "add-friend" && <AddFriend me={account.user_id} userId={dialog.userId} onClose={() => setDialog(null)} />}
    </div>
  );
}
