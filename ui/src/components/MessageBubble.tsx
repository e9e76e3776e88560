import { memo, useState } from "react";
import type { Message } from "../ipc";
import { useI18n, type Translate } from "../i18n";
import { CODE_NOT_FRIENDS, conversationKind } from "../lib/conversation";
import { avatarColor } from "../lib/avatar";
import { timeOfDay } from "../lib/format";
import { AlertIcon, CheckIcon, ClockIcon, CopyIcon, DoubleCheckIcon, RetryIcon } from "./icons";

interface Props {
  message: Message;
  onRetry?: (id: string) => void;
  /** First message of a run from the same sender (rounder top corner, more space). */
  first?: boolean;
  /** Group chats: the sender's name, shown on the first message of a run from someone else. */
  sender?: string;
}

/** Why an own message was not sent, in words (1101: not friends / not a member). */
export function failureText(m: Message, t: Translate): string {
  if (m.status.kind !== "failed") return "";
  if (m.status.code === CODE_NOT_FRIENDS) {
    return conversationKind(m.conversation_id) === "group" ? t("msg.notMember") : t("msg.notFriends");
  }
  return m.status.reason || t("msg.failed");
}

function StatusIcon({ message }: { message: Message }) {
  const { t } = useI18n();
  const s = message.status;
  switch (s.kind) {
    case "sending":
      return (
        <span className="status status-sending" data-status="sending" title={t("msg.sending")} aria-label={t("msg.sending")}>
          <ClockIcon />
        </span>
      );
    case "sent":
      return (
        <span className="status status-sent" data-status="sent" title={t("msg.sent")} aria-label={t("msg.sent")}>
          <CheckIcon />
        </span>
      );
    case "delivered":
      return (
        <span className="status status-delivered" data-status="delivered" title={t("msg.delivered")} aria-label={t("msg.delivered")}>
          <DoubleCheckIcon />
        </span>
      );
    case "read":
      return (
        <span className="status status-read" data-status="read" title={t("msg.read")} aria-label={t("msg.read")}>
          <DoubleCheckIcon />
        </span>
      );
    case "failed":
      return (
        <span className="status status-failed" data-status="failed" title={failureText(message, t)} aria-label={t("msg.failed")}>
          <AlertIcon />
        </span>
      );
    default:
      return null;
  }
}

/** Text kinds (UNSET -1, TEXT 1, or 0) show their content; other kinds a placeholder. */
export function contentText(m: Message): string {
  switch (m.typeu) {
    case -1:
    case 0:
    case 1:
      return m.content;
    case 2:
      return "[Image]";
    case 3:
      return "[Sticker]";
    case 30:
      return "[A message was recalled]";
    default:
      return "[Message]";
  }
}

export const MessageBubble = memo(function MessageBubble({ message, onRetry, first, sender }: Props) {
  const { t, lang } = useI18n();
  const [copied, setCopied] = useState(false);
  const own = message.outgoing;
  const failed = message.status.kind === "failed";

  const copy = () => {
    void navigator.clipboard?.writeText(message.content).then(
      () => {
        setCopied(true);
        window.setTimeout(() => setCopied(false), 1200);
      },
      () => {},
    );
  };

  return (
    <div className={`msg-row ${own ? "own" : "other"}${first ? " first" : ""}`} data-testid="message" data-id={message.id}>
      <div className={`bubble${failed ? " failed" : ""}`}>
        {sender && first && !own && (
          <span className="bubble-sender" style={{ color: avatarColor(message.from) }} data-testid="message-sender">
            {sender}
          </span>
        )}
        {/* Text only: React escapes it; never render message content as HTML. */}
        <span className="bubble-text">{contentText(message)}</span>
        <span className="bubble-meta">
          <time dateTime={new Date(message.sent_at).toISOString()}>{timeOfDay(message.sent_at, lang)}</time>
          {own && <StatusIcon message={message} />}
        </span>
        {failed && (
          <span className="bubble-error" data-testid="failed-reason">
            {failureText(message, t)}
          </span>
        )}
      </div>
      <div className="msg-actions">
        {failed && onRetry && (
          <button
            type="button"
            className="msg-action retry"
            onClick={() => onRetry(message.id)}
            title={t("msg.retry")}
            data-testid="retry-message"
          >
            <RetryIcon /> {t("msg.retry")}
          </button>
        )}
        <button type="button" className="msg-action copy" onClick={copy} title={t("msg.copy")} aria-label={t("msg.copy")}>
          <CopyIcon />
          {copied && <span className="copied">{t("msg.copied")}</span>}
        </button>
      </div>
    </div>
  );
});
