import { memo, type ReactNode } from "react";
import type { Conversation } from "../ipc";
import { useI18n } from "../i18n";
import { conversationKind, NOTICES_ID, parseGroupEvent, parseNotice } from "../lib/conversation";
import { listTime } from "../lib/format";
import { useConversationName } from "../lib/names";
import { useSocial } from "../lib/social";
import { useDisplayNames } from "../lib/users";
import { Avatar } from "./Avatar";
import { MegaphoneIcon } from "./icons";
import { groupEventNodes } from "./SystemLine";

/** The notices pinned on top, then newest activity first; ties by id so the order is stable. */
export function sortConversations(list: Conversation[]): Conversation[] {
  return list
    .slice()
    .sort(
      (a, b) =>
        Number(b.id === NOTICES_ID) - Number(a.id === NOTICES_ID) || b.last_at - a.last_at || a.id.localeCompare(b.id),
    );
}

/** The last line of a row: a notice's title, a group event's sentence, or the text. */
function Preview({ c, me }: { c: Conversation; me: string }) {
  const { t } = useI18n();
  const kind = conversationKind(c.id);
  const text = c.last_text;
  const notice = kind === "notices" && text ? parseNotice(text) : null;
  const ev = kind === "group" && text ? parseGroupEvent(text) : null;
  const ids = ev ? [ev.by, ...ev.members] : [];
  const names = useDisplayNames(ids);
  let shown: ReactNode = text;
  if (notice) shown = notice.title || notice.body;
  // The SDK's preview of a notice is "[Notice] <title>": the row's icon already says so.
  else if (kind === "notices" && text?.startsWith("[Notice] ")) shown = text.slice("[Notice] ".length);
  else if (ev) {
    const byId = new Map(ids.map((id, i) => [id, names[i]]));
    shown = groupEventNodes(ev, (id) => byId.get(id) ?? id, me, t);
  }
  return <span className={`conv-last${shown ? "" : " muted"}`}>{shown ?? t("list.noMessages")}</span>;
}

const Row = memo(function Row({
  c,
  me,
  active,
  online,
  onSelect,
}: {
  c: Conversation;
  me: string;
  active: boolean;
  online: boolean | undefined;
  onSelect: (id: string) => void;
}) {
  const { lang } = useI18n();
  const name = useConversationName(c.id);
  const kind = conversationKind(c.id);
  return (
    <li>
      <button
        type="button"
        className={`conv${active ? " active" : ""}${kind === "notices" ? " pinned" : ""}`}
        onClick={() => onSelect(c.id)}
        aria-current={active ? "true" : undefined}
        data-testid="conversation"
        data-id={c.id}
      >
        <Avatar
          id={c.id}
          name={name}
          online={kind === "direct" ? !!online : undefined}
          icon={kind === "notices" ? <MegaphoneIcon width={24} height={24} /> : undefined}
        />
        <div className="conv-body">
          <div className="conv-top">
            <span className="conv-name">{name}</span>
            <span className="conv-time">{listTime(c.last_at, lang)}</span>
          </div>
          <div className="conv-bottom">
            <Preview c={c} me={me} />
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
  me,
}: {
  conversations: Conversation[];
  selected: string | null;
  onSelect: (id: string) => void;
  me: string;
}) {
  const { t } = useI18n();
  const { online } = useSocial();
  const sorted = sortConversations(conversations);
  if (sorted.length === 0) return <div className="list-empty">{t("list.empty")}</div>;
  return (
    <ul className="conv-list" data-testid="conversation-list">
      {sorted.map((c) => (
        <Row key={c.id} c={c} me={me} active={c.id === selected} online={online[c.id]} onSelect={onSelect} />
      ))}
    </ul>
  );
}
