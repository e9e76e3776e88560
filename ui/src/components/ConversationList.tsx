import { memo } from "react";
import type { Conversation } from "../ipc";
import { useI18n } from "../i18n";
import { listTime } from "../lib/format";
import { useDisplayName } from "../lib/users";
import { Avatar } from "./Avatar";

/** Newest activity first; ties by id so the order is stable. */
export function sortConversations(list: Conversation[]): Conversation[] {
  return list.slice().sort((a, b) => b.last_at - a.last_at || a.id.localeCompare(b.id));
}

const Row = memo(function Row({
  c,
  active,
  onSelect,
}: {
  c: Conversation;
  active: boolean;
  onSelect: (id: string) => void;
}) {
  const { t, lang } = useI18n();
  const name = useDisplayName(c.id);
  return (
    <li>
      <button
        type="button"
        className={`conv${active ? " active" : ""}`}
        onClick={() => onSelect(c.id)}
        aria-current={active ? "true" : undefined}
        data-testid="conversation"
        data-id={c.id}
      >
        <Avatar id={c.id} name={name} />
        <div className="conv-body">
          <div className="conv-top">
            <span className="conv-name">{name}</span>
            <span className="conv-time">{listTime(c.last_at, lang)}</span>
          </div>
          <div className="conv-bottom">
            <span className={`conv-last${c.last_text ? "" : " muted"}`}>{c.last_text ?? t("list.noMessages")}</span>
            {c.unread > 0 && (
              <span className="badge" data-testid="unread" aria-label={`${c.unread} unread`}>
                {c.unread > 999 ? "999+" : c.unread}
              </span>
            )}
          </div>
        </div>
      </button>
    </li>
  );
});

export function ConversationList({
  conversations,
  selected,
  onSelect,
}: {
  conversations: Conversation[];
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  const { t } = useI18n();
  const sorted = sortConversations(conversations);
  if (sorted.length === 0) return <div className="list-empty">{t("list.empty")}</div>;
  return (
    <ul className="conv-list" data-testid="conversation-list">
      {sorted.map((c) => (
        <Row key={c.id} c={c} active={c.id === selected} onSelect={onSelect} />
      ))}
    </ul>
  );
}
