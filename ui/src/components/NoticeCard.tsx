import { memo } from "react";
import type { Message } from "../ipc";
import { useI18n } from "../i18n";
import { parseNotice } from "../lib/conversation";
import { listTime } from "../lib/format";
import { MegaphoneIcon } from "./icons";

/** A notice (typeu 80, `{"id","title","body"}`) as a card: title and body are text, never HTML. */
export const NoticeCard = memo(function NoticeCard({ message }: { message: Message }) {
  const { t, lang } = useI18n();
  const n = parseNotice(message.content);
  return (
    <article className="notice-card" data-testid="notice-card" data-id={message.id}>
      <header className="notice-card-head">
        <span className="notice-card-icon" aria-hidden="true">
          <MegaphoneIcon width={16} height={16} />
        </span>
        <span className="notice-card-label">{t("notices.label")}</span>
        <time className="notice-card-time" dateTime={new Date(message.sent_at).toISOString()}>
          {listTime(message.sent_at, lang)}
        </time>
      </header>
      <h3 className="notice-card-title" data-testid="notice-title">
        {n ? n.title : ""}
      </h3>
      <div className="notice-card-body" data-testid="notice-body">
        {n ? n.body : message.content}
      </div>
    </article>
  );
});
