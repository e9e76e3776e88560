import { memo, useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import type { SearchHit, SearchOrder, SnippetPart } from "../ipc";
import { useI18n } from "../i18n";
import { conversationKind } from "../lib/conversation";
import { listTime } from "../lib/format";
import { useConversationName } from "../lib/names";
import { groupHits, indexPercent, SEARCH_MAX_CHARS, useIndexStatus, useMessageSearch } from "../lib/search";
import { useDisplayName } from "../lib/users";
import { Avatar } from "./Avatar";
import { CloseIcon, MegaphoneIcon, SearchIcon } from "./icons";

interface Props {
  /** Whether the results replace the sidebar's lists. */
  open: boolean;
  /** Search only this conversation (shown as a chip; removing it widens to all). */
  scope: string | null;
  /** Changes when Ctrl+K / Ctrl+F ask for the field to get the focus. */
  focusRequest: number;
  /** The message opened from the results (marked in the list). */
  openedId: string | null;
  onOpenChange: (open: boolean) => void;
  onClearScope: () => void;
  onPick: (hit: SearchHit) => void;
}

/** A snippet as text: the `hit` parts in <mark>. Never HTML (message text is user input). */
export function Snippet({ parts }: { parts: SnippetPart[] }) {
  return (
    <span className="hit-snippet" data-testid="search-snippet">
      {parts.map((p, i) => (p.hit ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>))}
    </span>
  );
}

const ScopeChip = ({ id, onClear }: { id: string; onClear: () => void }) => {
  const { t } = useI18n();
  const name = useConversationName(id);
  return (
    <span className="search-scope" data-testid="search-scope" data-id={id}>
      <span className="search-scope-label">{t("search.in", { name })}</span>
      <button
        type="button"
        className="search-scope-clear"
        onClick={onClear}
        aria-label={t("search.allChats")}
        title={t("search.allChats")}
        data-testid="search-scope-clear"
      >
        <CloseIcon width={12} height={12} />
      </button>
    </span>
  );
};

const Hit = memo(function Hit({
  hit,
  active,
  opened,
  onPick,
  onHover,
}: {
  hit: SearchHit;
  active: boolean;
  opened: boolean;
  onPick: (h: SearchHit) => void;
  onHover: (id: string) => void;
}) {
  const { t, lang } = useI18n();
  const m = hit.message;
  const fromServer = m.from === "0" || conversationKind(m.conversation_id) === "notices";
  const name = useDisplayName(m.outgoing || fromServer ? null : m.from);
  const sender = m.outgoing ? t("search.you") : fromServer ? t("notices.title") : name;
  const ref = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (active) ref.current?.scrollIntoView?.({ block: "nearest" });
  }, [active]);
  return (
    <li role="presentation">
      <button
        ref={ref}
        type="button"
        role="option"
        id={`search-hit-${m.id}`}
        aria-selected={active}
        tabIndex={-1}
        className={`search-hit${active ? " active" : ""}${opened ? " opened" : ""}`}
        onClick={() => onPick(hit)}
        onMouseMove={() => !active && onHover(m.id)}
        data-testid="search-hit"
        data-id={m.id}
        data-conversation={m.conversation_id}
      >
        <span className="search-hit-top">
          <span className="search-hit-sender" data-testid="search-hit-sender">
            {sender}
          </span>
          <time className="search-hit-time" dateTime={new Date(m.sent_at).toISOString()}>
            {listTime(m.sent_at, lang)}
          </time>
        </span>
        <Snippet parts={hit.snippet} />
      </button>
    </li>
  );
});

function Group({
  conversationId,
  hits,
  activeId,
  openedId,
  onPick,
  onHover,
}: {
  conversationId: string;
  hits: SearchHit[];
  activeId: string | null;
  openedId: string | null;
  onPick: (h: SearchHit) => void;
  onHover: (id: string) => void;
}) {
  const name = useConversationName(conversationId);
  const kind = conversationKind(conversationId);
  return (
    <li className="search-group" role="group" aria-label={name} data-testid="search-group" data-id={conversationId}>
      <div className="search-group-head">
        <Avatar
          id={conversationId}
          name={name}
          size={28}
          icon={kind === "notices" ? <MegaphoneIcon width={15} height={15} /> : undefined}
        />
        <span className="search-group-name">{name}</span>
        <span className="search-group-count" data-testid="search-group-count">
          {hits.length}
        </span>
      </div>
      <ul className="search-hits" role="presentation">
        {hits.map((h) => (
          <Hit
            key={h.message.id}
            hit={h}
            active={h.message.id === activeId}
            opened={h.message.id === openedId}
            onPick={onPick}
            onHover={onHover}
          />
        ))}
      </ul>
    </li>
  );
}

/**
 * The search box at the top of the sidebar and, while open, its results: grouped by
 * conversation, highlighted, paged, driven by the keyboard (↑/↓, Enter, Esc).
 */
export function MessageSearch({ open, scope, focusRequest, openedId, onOpenChange, onClearScope, onPick }: Props) {
  const { t, errorText } = useI18n();
  const [text, setText] = useState("");
  const [order, setOrder] = useState<SearchOrder>("newest");
  const [cursor, setCursor] = useState<string | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const { status, finished } = useIndexStatus();
  const rebuilding = status?.state === "rebuilding";
  // A finished rebuild may have found more: `finished` changing asks again.
  const result = useMessageSearch({ text, conversationId: scope, order }, finished);
  const scopeName = useConversationName(scope ?? "");

  useEffect(() => {
    if (focusRequest > 0) {
      inputRef.current?.focus();
      inputRef.current?.select();
    }
  }, [focusRequest]);

  const groups = useMemo(() => groupHits(result.hits ?? []), [result.hits]);
  const flat = useMemo(() => groups.flatMap((g) => g.hits), [groups]);
  const activeIndex = Math.max(
    0,
    flat.findIndex((h) => h.message.id === cursor),
  );
  const active = flat.length > 0 ? flat[activeIndex] : null;

  const close = () => {
    setText("");
    setCursor(null);
    inputRef.current?.blur();
    onOpenChange(false);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (flat.length === 0) return;
      const next = e.key === "ArrowDown" ? Math.min(flat.length - 1, activeIndex + 1) : Math.max(0, activeIndex - 1);
      setCursor(flat[next].message.id);
      if (e.key === "ArrowDown" && next === flat.length - 1 && result.hasMore) result.loadMore();
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (active) onPick(active);
    } else if (e.key === "Escape") {
      e.preventDefault();
      if (text) {
        setText("");
        setCursor(null);
      } else close();
    }
  };

  const q = result.text;
  let body;
  if (!q) {
    body = (
      <div className="search-hint" data-testid="search-hint">
        <SearchIcon width={28} height={28} />
        <p>{scope ? t("search.hintIn", { name: scopeName }) : t("search.hint")}</p>
        <p className="muted">{t("search.tips")}</p>
      </div>
    );
  } else if (result.hits === null) {
    body = <div className="search-hint muted">{t("search.searching")}</div>;
  } else if (result.error) {
    body = (
      <div className="form-error pad" role="alert">
        {errorText(result.error)}
      </div>
    );
  } else if (flat.length === 0 && !result.pending) {
    body = (
      <div className="search-hint" data-testid="search-empty">
        <p>{t("search.none", { q })}</p>
        {scope && (
          <button type="button" className="btn small" onClick={onClearScope}>
            {t("search.tryAll")}
          </button>
        )}
      </div>
    );
  } else {
    body = (
      <>
        <ul
          className={`search-groups${result.pending ? " pending" : ""}`}
          role="listbox"
          id="search-results"
          aria-label={t("search.results")}
          data-testid="search-results"
          data-pending={result.pending ? "true" : undefined}
        >
          {groups.map((g) => (
            <Group
              key={g.conversationId}
              conversationId={g.conversationId}
              hits={g.hits}
              activeId={active?.message.id ?? null}
              openedId={openedId}
              onPick={onPick}
              onHover={setCursor}
            />
          ))}
        </ul>
        {result.hasMore && (
          <button type="button" className="btn search-more" onClick={result.loadMore} disabled={result.loadingMore} data-testid="search-more">
            {result.loadingMore ? t("search.searching") : t("search.more")}
          </button>
        )}
      </>
    );
  }

  return (
    <>
      <div className={`search-field${open ? " open" : ""}`} data-testid="search-field">
        <SearchIcon width={16} height={16} className="search-field-icon" />
        {scope && <ScopeChip id={scope} onClear={onClearScope} />}
        <input
          ref={inputRef}
          className="search-input"
          type="text"
          role="combobox"
          aria-expanded={open && flat.length > 0}
          aria-controls="search-results"
          aria-activedescendant={active ? `search-hit-${active.message.id}` : undefined}
          aria-label={t("search.placeholder")}
          placeholder={scope ? t("search.placeholderIn") : t("search.placeholder")}
          maxLength={SEARCH_MAX_CHARS}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setCursor(null);
            if (!open) onOpenChange(true);
          }}
          onFocus={() => !open && onOpenChange(true)}
          onKeyDown={onKeyDown}
          data-testid="search-input"
        />
        {!open && <kbd className="search-kbd">Ctrl K</kbd>}
        {open && (
          <button type="button" className="icon-btn search-close" onClick={close} aria-label={t("search.close")} title={t("search.close")} data-testid="search-close">
            <CloseIcon width={16} height={16} />
          </button>
        )}
      </div>
      {open && (
        <div className="search-panel" data-testid="search-panel">
          {rebuilding && status && (
            <div className="search-indexing" role="status" data-testid="search-indexing">
              <span>{t("search.indexing", { n: indexPercent(status) })}</span>
              <span className="search-progress" aria-hidden="true">
                <span style={{ width: `${indexPercent(status)}%` }} />
              </span>
            </div>
          )}
          {q && result.hits !== null && !result.error && (
            <div className="search-bar">
              <span className="search-total" data-testid="search-total">
                {t(result.total === 1 ? "search.total1" : "search.total", { n: result.total })}
              </span>
              <div className="search-order" role="radiogroup" aria-label={t("search.order")}>
                {(["newest", "relevance"] as const).map((o) => (
                  <button
                    key={o}
                    type="button"
                    role="radio"
                    aria-checked={order === o}
                    className={order === o ? "active" : ""}
                    onClick={() => {
                      setOrder(o);
                      setCursor(null);
                      inputRef.current?.focus();
                    }}
                    data-testid={`search-order-${o}`}
                  >
                    {t(o === "newest" ? "search.newest" : "search.relevance")}
                  </button>
                ))}
              </div>
            </div>
          )}
          <div className="search-scroll">{body}</div>
        </div>
      )}
    </>
  );
}
