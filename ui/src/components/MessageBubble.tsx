import { memo, useState } from "react";
import { mediaUrl, stickerUrl, type ImageContent, type Message, type StickerContent } from "../ipc";
import { useI18n, type Translate } from "../i18n";
import { CODE_NOT_FRIENDS, conversationKind } from "../lib/conversation";
import { avatarColor } from "../lib/avatar";
import { timeOfDay } from "../lib/format";
import { imageBox, parseImage, parseSticker, stickerBox, TYPEU_IMAGE, TYPEU_STICKER } from "../lib/media";
import { AlertIcon, CheckIcon, ClockIcon, CopyIcon, DoubleCheckIcon, ImageIcon, RetryIcon } from "./icons";

interface Props {
  message: Message;
  onRetry?: (id: string) => void;
  /** First message of a run from the same sender (rounder top corner, more space). */
  first?: boolean;
  /** Group chats: the sender's name, shown on the first message of a run from someone else. */
  sender?: string;
  /** An own image being uploaded: the part sent so far (0–1). */
  progress?: number;
  /** Opens an image message in the full-size viewer. */
  onOpenImage?: (image: ImageContent, message: Message) => void;
}

const RING_R = 18;
const RING_C = 2 * Math.PI * RING_R;

/** The upload's progress over the image: a ring that fills, the percentage for screen readers. */
function ProgressRing({ value }: { value: number }) {
  const { t } = useI18n();
  const pct = Math.round(Math.min(1, Math.max(0, value)) * 100);
  return (
    <span
      className="progress-ring"
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={pct}
      aria-label={t("image.uploading", { n: pct })}
      data-testid="upload-progress"
    >
      <svg width="44" height="44" viewBox="0 0 44 44" aria-hidden>
        <circle className="ring-track" cx="22" cy="22" r={RING_R} />
        <circle
          className="ring-value"
          cx="22"
          cy="22"
          r={RING_R}
          strokeDasharray={RING_C}
          strokeDashoffset={RING_C * (1 - pct / 100)}
        />
      </svg>
    </span>
  );
}

/**
 * An image message's thumbnail in a box of the image's aspect ratio, sized before anything
 * loads (so the list never moves when it arrives); "image unavailable" when it cannot load.
 */
function ImageThumb({ image, message, progress, onOpen }: { image: ImageContent; message: Message; progress?: number; onOpen?: Props["onOpenImage"] }) {
  const { t } = useI18n();
  const [failed, setFailed] = useState(false);
  const box = imageBox(image.w, image.h);
  const uploading = message.outgoing && message.status.kind === "sending" && (progress ?? 0) < 1;
  return (
    <button
      type="button"
      className="image-thumb"
      style={{ width: box.w, height: box.h }}
      onClick={() => onOpen?.(image, message)}
      disabled={failed}
      aria-label={t("image.open")}
      title={t("image.open")}
      data-testid="image-thumb"
      data-w={image.w}
      data-h={image.h}
    >
      {failed ? (
        <span className="image-unavailable" data-testid="image-unavailable">
          <ImageIcon />
          {t("image.unavailable")}
        </span>
      ) : (
        <img src={mediaUrl(image.thumb.sha256)} alt="" width={box.w} height={box.h} draggable={false} onError={() => setFailed(true)} />
      )}
      {uploading && <ProgressRing value={progress ?? 0} />}
    </button>
  );
}

/** A sticker at its own size, without a bubble. */
function StickerImage({ sticker }: { sticker: StickerContent }) {
  const { t } = useI18n();
  const [failed, setFailed] = useState(false);
  const box = stickerBox(sticker.w, sticker.h);
  return (
    <span className="sticker-img" style={{ width: box.w, height: box.h }} data-testid="sticker-message">
      {failed ? (
        <span className="image-unavailable">{t("msg.sticker")}</span>
      ) : (
        <img
          src={stickerUrl(sticker.pack, sticker.id)}
          alt={t("sticker.alt", { name: sticker.id })}
          width={box.w}
          height={box.h}
          draggable={false}
          onError={() => setFailed(true)}
        />
      )}
    </span>
  );
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

export const MessageBubble = memo(function MessageBubble({ message, onRetry, first, sender, progress, onOpenImage }: Props) {
  const { t, lang } = useI18n();
  const [copied, setCopied] = useState(false);
  const own = message.outgoing;
  const failed = message.status.kind === "failed";
  const image = message.typeu === TYPEU_IMAGE ? parseImage(message.content) : null;
  const sticker = message.typeu === TYPEU_STICKER ? parseSticker(message.content) : null;
  const media = image ? " media" : sticker ? " sticker" : "";

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
      <div className={`bubble${failed ? " failed" : ""}${media}`}>
        {sender && first && !own && (
          <span className="bubble-sender" style={{ color: avatarColor(message.from) }} data-testid="message-sender">
            {sender}
          </span>
        )}
        {image ? (
          <ImageThumb image={image} message={message} progress={progress} onOpen={onOpenImage} />
        ) : sticker ? (
          <StickerImage sticker={sticker} />
        ) : (
          /* Text only: React escapes it; never render message content as HTML. */
          <span className="bubble-text">
            {message.typeu === TYPEU_IMAGE ? t("msg.image") : message.typeu === TYPEU_STICKER ? t("msg.sticker") : contentText(message)}
          </span>
        )}
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
        {!media && (
          <button type="button" className="msg-action copy" onClick={copy} title={t("msg.copy")} aria-label={t("msg.copy")}>
            <CopyIcon />
            {copied && <span className="copied">{t("msg.copied")}</span>}
          </button>
        )}
      </div>
    </div>
  );
});
