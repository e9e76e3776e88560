import { useEffect } from "react";
import { getPresence } from "../ipc";
import { useI18n } from "../i18n";
import { conversationKind } from "../lib/conversation";
import { useConversationName } from "../lib/names";
import { useSocial, useTyping } from "../lib/social";
import { useDisplayName } from "../lib/users";
import { Avatar } from "./Avatar";
import { InfoIcon, MegaphoneIcon } from "./icons";

interface Props {
  conversationId: string;
  me: string;
  infoOpen?: boolean;
  onToggleInfo?: () => void;
}

/** Avatar, name and a status line: online / typing… (1:1), member count / who types (group). */
export function ChatHeader({ conversationId, me, infoOpen, onToggleInfo }: Props) {
  const { t } = useI18n();
  const social = useSocial();
  const kind = conversationKind(conversationId);
  const name = useConversationName(conversationId);
  const typing = useTyping(conversationId).filter((id) => id !== me);
  const firstTyper = useDisplayName(typing[0] ?? null);
  const online = social.online[conversationId];
  const { setOnline } = social;

  // Presence of a peer we have no push for yet (not a friend, or before the list loaded).
  useEffect(() => {
    if (kind !== "direct" || conversationId === me || online !== undefined) return;
    let live = true;
    getPresence(conversationId)
      .then((o) => live && setOnline(conversationId, o))
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [kind, conversationId, me, online, setOnline]);

  let status: string;
  let active = false;
  if (kind === "notices") {
    status = t("notices.sub");
  } else if (kind === "group") {
    const g = social.group(conversationId);
    if (typing.length === 1) status = t("chat.typingOne", { name: firstTyper });
    else if (typing.length > 1) status = t("chat.typingMany", { n: typing.length });
    else status = g ? (g.member_count === 1 ? t("group.member1") : t("group.members", { n: g.member_count })) : "";
    active = typing.length > 0;
  } else if (typing.length > 0) {
    status = t("chat.typing");
    active = true;
  } else if (online) {
    status = t("chat.online");
    active = true;
  } else {
    status = name !== conversationId ? `ID ${conversationId}` : "";
  }

  return (
    <header className="chat-header">
      <Avatar
        id={conversationId}
        name={name}
        size={40}
        online={kind === "direct" ? !!online : undefined}
        icon={kind === "notices" ? <MegaphoneIcon width={20} height={20} /> : undefined}
      />
      <div className="chat-title">
        <div className="chat-name" data-testid="chat-name">
          {name}
        </div>
        <div className={`chat-sub${active ? " active" : ""}`} data-testid="chat-status">
          {status}
        </div>
      </div>
      {kind === "group" && onToggleInfo && (
        <button
          type="button"
          className={`icon-btn header-action${infoOpen ? " active" : ""}`}
          onClick={onToggleInfo}
          aria-label={t("group.info")}
          title={t("group.info")}
          aria-pressed={!!infoOpen}
          data-testid="group-info-button"
        >
          <InfoIcon />
        </button>
      )}
    </header>
  );
}
