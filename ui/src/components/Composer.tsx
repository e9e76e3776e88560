import { lazy, Suspense, useCallback, useLayoutEffect, useRef, useState } from "react";
import { useI18n } from "../i18n";
import { clipboardImages, type StickerRef } from "../lib/media";
import { PaperclipIcon, SendIcon, SmileIcon } from "./icons";

interface Props {
  /** Sends the text; resolves when the command returned (the message is stored). */
  onSend: (text: string) => Promise<void> | void;
  disabled?: boolean;
  error?: string | null;
  /** "I am typing": called as the text changes, at most once per TYPING_EVERY_MS. */
  onTyping?: () => void;
  /** An image picked with the attach button or pasted: opens the preview. No button without it. */
  onAttach?: (file: File) => void;
  /** Sends a sticker from the picker's stickers tab (no tab without it). */
  onSticker?: (sticker: StickerRef) => void;
}

/** The server relays at most one typing event per second; more IPC calls would be wasted. */
export const TYPING_EVERY_MS = 1000;

const MAX_HEIGHT = 160;

// The picker and its emoji data (most of the bundle) load on first open, not at start:
// a separate chunk the web process only parses and keeps when someone wants an emoji.
const EmojiPicker = lazy(() => import("./EmojiPicker").then((m) => ({ default: m.EmojiPicker })));

export function Composer({ onSend, disabled, error, onTyping, onAttach, onSticker }: Props) {
  const { t } = useI18n();
  const [text, setText] = useState("");
  const [picker, setPicker] = useState(false);
  const area = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const lastTyping = useRef(0);

  const changed = (value: string) => {
    setText(value);
    if (!onTyping || value.trim() === "") return;
    const now = Date.now();
    if (now - lastTyping.current >= TYPING_EVERY_MS) {
      lastTyping.current = now;
      onTyping();
    }
  };

  // Grow with the text up to MAX_HEIGHT, then scroll.
  useLayoutEffect(() => {
    const el = area.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, MAX_HEIGHT)}px`;
  }, [text]);

  const send = () => {
    if (disabled || text.trim() === "") return;
    const value = text;
    setText("");
    void onSend(value);
    area.current?.focus();
  };

  const insert = useCallback((s: string) => {
    const el = area.current;
    setText((cur) => {
      if (!el) return cur + s;
      const start = el.selectionStart ?? cur.length;
      const end = el.selectionEnd ?? cur.length;
      const next = cur.slice(0, start) + s + cur.slice(end);
      requestAnimationFrame(() => {
        el.focus();
        el.setSelectionRange(start + s.length, start + s.length);
      });
      return next;
    });
  }, []);

  const closePicker = useCallback(() => setPicker(false), []);

  return (
    <div className="composer-wrap">
      {error && (
        <div className="composer-error" role="alert">
          {error}
        </div>
      )}
      {picker && (
        <Suspense fallback={null}>
          <EmojiPicker onPick={insert} onClose={closePicker} onSticker={disabled ? undefined : onSticker} />
        </Suspense>
      )}
      <form
        className="composer"
        onSubmit={(e) => {
          e.preventDefault();
          send();
        }}
      >
        <button
          type="button"
          className={`icon-btn${picker ? " active" : ""}`}
          data-emoji-toggle
          aria-label={t("composer.emoji")}
          title={t("composer.emoji")}
          aria-expanded={picker}
          onClick={() => setPicker((p) => !p)}
        >
          <SmileIcon />
        </button>
        {onAttach && (
          <>
            <button
              type="button"
              className="icon-btn"
              aria-label={t("composer.attach")}
              title={t("composer.attach")}
              disabled={disabled}
              onClick={() => fileInput.current?.click()}
              data-testid="attach-button"
            >
              <PaperclipIcon />
            </button>
            <input
              ref={fileInput}
              type="file"
              accept="image/*"
              hidden
              data-testid="attach-input"
              onChange={(e) => {
                const file = e.target.files?.[0];
                // Cleared so that picking the same file again is a change too.
                e.target.value = "";
                if (file) onAttach(file);
              }}
            />
          </>
        )}
        <textarea
          ref={area}
          data-testid="composer-input"
          rows={1}
          value={text}
          disabled={disabled}
          placeholder={t("composer.placeholder")}
          aria-label={t("composer.placeholder")}
          onChange={(e) => changed(e.target.value)}
          onPaste={(e) => {
            // A pasted image (a screenshot, a copied file) goes to the preview; text pastes as usual.
            const files = onAttach ? clipboardImages(e.clipboardData) : [];
            if (files.length === 0) return;
            e.preventDefault();
            onAttach?.(files[0]);
          }}
          onKeyDown={(e) => {
            // Enter sends, Shift+Enter is a new line; never send while an IME is composing.
            if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing && e.keyCode !== 229) {
              e.preventDefault();
              send();
            }
          }}
        />
        <button
          type="submit"
          className="send-btn"
          data-testid="send-button"
          aria-label={t("composer.send")}
          title={t("composer.send")}
          disabled={disabled || text.trim() === ""}
        >
          <SendIcon />
        </button>
      </form>
    </div>
  );
}
