import { useCallback, useEffect, useState } from "react";
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
  type Settings,
} from "../ipc";
import { useI18n } from "../i18n";
import { useDisplayName } from "../lib/users";
import { Avatar } from "./Avatar";
import { ChatView } from "./ChatView";
import { ConnectionBanner } from "./ConnectionBanner";
import { ConversationList } from "./ConversationList";
import { GearIcon, PlusIcon } from "./icons";
import { NewChat } from "./NewChat";
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

export function MainWindow({ account, settings, info, onSettingsChange, onLogout }: Props) {
  const { t, errorText } = useI18n();
  const me = useDisplayName(account.user_id);
  const [conversations, setConversations] = useState<Conversation[]>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [conn, setConn] = useState<ConnectionState | null>(null);
  const [dialog, setDialog] = useState<"settings" | "new" | null>(null);
  const [error, setError] = useState<string | null>(null);

  const select = useCallback((id: string) => {
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

  // The open chat never shows an unread badge: mark it read when something arrives.
  const onIncoming = useCallback(() => {
    if (selected && document.visibilityState === "visible") markRead(selected).catch(() => {});
  }, [selected]);

  const shown = conversations.map((c) => (c.id === selected && c.unread > 0 ? { ...c, unread: 0 } : c));

  return (
    <div className="main-window">
      <aside className="sidebar">
        <header className="sidebar-header">
          <div className="me" title={`${account.username} (${account.user_id})`}>
            <Avatar id={account.user_id} name={me} size={36} />
            <h1 className="sidebar-title">{t("list.title")}</h1>
          </div>
          <div className="sidebar-actions">
            <button
              type="button"
              className="icon-btn"
              onClick={() => setDialog("new")}
              aria-label={t("list.newChat")}
              title={t("list.newChat")}
              data-testid="new-chat-button"
            >
              <PlusIcon />
            </button>
            <button
              type="button"
              className="icon-btn"
              onClick={() => setDialog("settings")}
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
        <ConversationList conversations={shown} selected={selected} onSelect={select} />
      </aside>
      <main className="pane">
        {selected ? (
          <ChatView key={selected} conversationId={selected} onIncoming={onIncoming} />
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
      {dialog === "settings" && (
        <SettingsPanel
          settings={settings}
          account={account}
          info={info}
          onChange={onSettingsChange}
          onLogout={onLogout}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog === "new" && (
        <NewChat
          onClose={() => setDialog(null)}
          onOpen={(id) => {
            setDialog(null);
            select(id);
          }}
        />
      )}
    </div>
  );
}
