import { useEffect, useMemo, useRef, useState } from "react";
import { useI18n, type StringKey } from "../i18n";
import { byGroup, GROUPS, loadRecent, pushRecent, searchEmoji, EMOJI } from "../lib/emoji";
import type { StickerRef } from "../lib/media";
import { ClockIcon, SearchIcon, StickerIcon } from "./icons";
import { StickerPanel } from "./StickerPanel";

type Tab = "recent" | "stickers" | number;

const TAB_ICON: Record<number, string> = { 0: "😀", 1: "👋", 3: "🐻", 4: "🍔", 5: "✈️", 6: "⚽", 7: "💡", 8: "❤️", 9: "🏁" };

const labelOf = new Map(EMOJI.map((e) => [e.unicode, e.label]));

interface Props {
  onPick: (emoji: string) => void;
  onClose: () => void;
  /** Sends a sticker; without it the picker has no stickers tab. */
  onSticker?: (sticker: StickerRef) => void;
}

export function EmojiPicker({ onPick, onClose, onSticker }: Props) {
  const { t } = useI18n();
  const [query, setQuery] = useState("");
  const [recent, setRecent] = useState<string[]>(() => loadRecent());
  const [tab, setTab] = useState<Tab>(() => (loadRecent().length > 0 ? "recent" : 0));
  const root = useRef<HTMLDivElement>(null);
  const search = useRef<HTMLInputElement>(null);

  useEffect(() => {
    search.current?.focus();
    const onDown = (e: MouseEvent) => {
      const target = e.target as HTMLElement;
      if (root.current && !root.current.contains(target) && !target.closest("[data-emoji-toggle]")) onClose();
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") onClose();
    };
    document.addEventListener("mousedown", onDown);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("mousedown", onDown);
      document.removeEventListener("keydown", onKey);
    };
  }, [onClose]);

  const items = useMemo(() => {
    if (query.trim()) return searchEmoji(query).map((e) => ({ unicode: e.unicode, label: e.label }));
    if (tab === "stickers") return [];
    if (tab === "recent") return recent.map((u) => ({ unicode: u, label: labelOf.get(u) ?? u }));
    return byGroup(tab).map((e) => ({ unicode: e.unicode, label: e.label }));
  }, [query, tab, recent]);

  const pick = (u: string) => {
    setRecent(pushRecent(u));
    onPick(u);
  };

  const stickers = tab === "stickers" && !query.trim() && !!onSticker;
  const title = query.trim() || tab === "stickers"
    ? null
    : tab === "recent"
      ? t("emoji.recent")
      : t(`emoji.group.${tab}` as StringKey);

  return (
    <div
      className="emoji-picker"
      ref={root}
      role="dialog"
      aria-label={t("composer.emoji")}
      data-testid="emoji-picker"
    >
      <div className="emoji-search">
        <SearchIcon width={16} height={16} />
        <input
          ref={search}
          type="search"
          value={query}
          placeholder={t("emoji.search")}
          aria-label={t("emoji.search")}
          onChange={(e) => setQuery(e.target.value)}
        />
      </div>
      <div className="emoji-tabs" role="tablist">
        <button
          type="button"
          role="tab"
          aria-selected={tab === "recent" && !query}
          className={`emoji-tab${tab === "recent" && !query ? " active" : ""}`}
          title={t("emoji.recent")}
          aria-label={t("emoji.recent")}
          onClick={() => {
            setQuery("");
            setTab("recent");
          }}
        >
          <ClockIcon width={18} height={18} />
        </button>
        {GROUPS.map((g) => (
          <button
            key={g}
            type="button"
            role="tab"
            aria-selected={tab === g && !query}
            className={`emoji-tab${tab === g && !query ? " active" : ""}`}
            title={t(`emoji.group.${g}` as StringKey)}
            aria-label={t(`emoji.group.${g}` as StringKey)}
            onClick={() => {
              setQuery("");
              setTab(g);
            }}
          >
            {TAB_ICON[g]}
          </button>
        ))}
        {onSticker && (
          <button
            type="button"
            role="tab"
            aria-selected={stickers}
            className={`emoji-tab${stickers ? " active" : ""}`}
            title={t("sticker.tab")}
            aria-label={t("sticker.tab")}
            data-testid="sticker-tab"
            onClick={() => {
              setQuery("");
              setTab("stickers");
            }}
          >
            <StickerIcon width={18} height={18} />
          </button>
        )}
      </div>
      {title && <div className="emoji-section-title">{title}</div>}
      {stickers && onSticker ? (
        <StickerPanel
          onPick={(s) => {
            onSticker(s);
            onClose();
          }}
        />
      ) : (
        <div className="emoji-grid" data-testid="emoji-grid">
          {items.length === 0 && <div className="emoji-none">{t("emoji.none")}</div>}
          {items.map((e) => (
            <button
              key={e.unicode}
              type="button"
              className="emoji-btn"
              title={e.label}
              aria-label={e.label}
              onClick={() => pick(e.unicode)}
            >
              {e.unicode}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
