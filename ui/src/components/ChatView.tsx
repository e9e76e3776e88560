import { useCallback, useEffect, useLayoutEffect, useRef, useState, type DragEvent } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";
import {
  historyAround,
  loadHistory,
  on,
  refreshNotices,
  respondFriendRequest,
  retryMessage,
  sendImage,
  sendSticker,
  sendText,
  sendTyping,
  type ImageContent,
  type IpcError,
  type Message,
  type MessageStatus,
  type PreparedImage,
} from "../ipc";
import { useI18n } from "../i18n";
import { conversationKind, isSystemMessage, TYPEU_NOTICE } from "../lib/conversation";
import { dayLabel, sameDay } from "../lib/format";
import { imageFiles, mediaHeight, type StickerRef } from "../lib/media";
import { useConversationName } from "../lib/names";
import { useSocial } from "../lib/social";
import { useDisplayName } from "../lib/users";
import { ChatHeader } from "./ChatHeader";
import { Composer } from "./Composer";
import { ImagePreview } from "./ImagePreview";
import { ImageViewer } from "./ImageViewer";
import { MessageBubble } from "./MessageBubble";
import { NoticeCard } from "./NoticeCard";
import { SystemLine } from "./SystemLine";
import { ArrowDownIcon } from "./icons";

export const PAGE = 50;
const LOAD_MARGIN = 400; // px from the top that starts loading the next older page
const BOTTOM_SLACK = 80;
const FLASH_MS = 2000;

/** Whether `a` comes after `b` in the (sent_at, id) order of a conversation. */
const isAfter = (a: Message, b: Message) => a.sent_at > b.sent_at || (a.sent_at === b.sent_at && a.id > b.id);

/** Open the chat at this message (a search hit): history around it, scrolled there, flashed. */
export interface ChatFocus {
  messageId: string;
  /** A new value jumps again, even to the same message. */
  nonce: number;
}

/** Inserts `m` keeping (sent_at, id) order; replaces a message with the same id. */
export function upsertMessage(list: Message[], m: Message): Message[] {
  const at = list.findIndex((x) => x.id === m.id);
  if (at >= 0) {
    const next = list.slice();
    next[at] = m;
    return next;
  }
  let i = list.length;
  while (i > 0) {
    const p = list[i - 1];
    if (p.sent_at < m.sent_at || (p.sent_at === m.sent_at && p.id < m.id)) break;
    i--;
  }
  return [...list.slice(0, i), m, ...list.slice(i)];
}

interface Props {
  conversationId: string;
  /** The signed-in user's id ("You" in group events, no sender name on own messages). */
  me: string;
  /** Called when a message of this conversation arrives while it is open. */
  onIncoming?: (m: Message) => void;
  infoOpen?: boolean;
  onToggleInfo?: () => void;
  /** Opens the friend-request form for a user (chat with a non-friend). */
  onAddFriend?: (userId: string) => void;
  /** Open at this message instead of at the newest one. */
  focus?: ChatFocus | null;
}

type OpenImage = (image: ImageContent, m: Message) => void;

/** A group message from someone else, with the sender's name on the first of a run. */
function GroupBubble({ m, first, onRetry, progress, onOpenImage }: { m: Message; first: boolean; onRetry: (id: string) => void; progress?: number; onOpenImage: OpenImage }) {
  const sender = useDisplayName(m.outgoing ? null : m.from);
  return (
    <MessageBubble
      message={m}
      first={first}
      onRetry={onRetry}
      sender={m.outgoing ? undefined : sender}
      progress={progress}
      onOpenImage={onOpenImage}
    />
  );
}

/** A row's height before it is measured: a message, or its image box (no jump when it loads). */
function estimateRow(m: Message | undefined): number {
  const media = m ? mediaHeight(m) : null;
  return media === null ? 52 : media + 8;
}

/** Above the messages: why sending may not work here, with the way out. */
function ChatBanner({ conversationId, me, onAddFriend }: { conversationId: string; me: string; onAddFriend?: (id: string) => void }) {
  const { t } = useI18n();
  const social = useSocial();
  const name = useConversationName(conversationId);
  const kind = conversationKind(conversationId);
  if (kind === "group" && social.groupsLoaded && !social.group(conversationId)) {
    return (
      <div className="chat-banner" role="status" data-testid="not-member-banner">
        {t("group.notMember")}
      </div>
    );
  }
  if (kind !== "direct" || conversationId === me || !social.friendsLoaded || social.isFriend(conversationId)) return null;
  const requested = social.outgoing.some((r) => r.to.user_id === conversationId);
  const asked = social.incoming.find((r) => r.from.user_id === conversationId);
  return (
    <div className="chat-banner" role="status" data-testid="not-friend-banner">
      <span>{asked ? t("chat.wantsFriend", { name }) : t("chat.notFriend", { name })}</span>
      {asked ? (
        <button
          type="button"
          className="btn small primary"
          data-testid="chat-accept-friend"
          onClick={() =>
            void respondFriendRequest(asked.id, true)
              .then(() => Promise.all([social.reloadFriends(), social.reloadRequests()]))
              .catch(() => social.reloadRequests())
          }
        >
          {t("contacts.accept")}
        </button>
      ) : requested ? (
        <span className="tag">{t("chat.requested")}</span>
      ) : (
        onAddFriend && (
          <button type="button" className="btn small primary" onClick={() => onAddFriend(conversationId)} data-testid="chat-add-friend">
            {t("chat.addFriend")}
          </button>
        )
      )}
    </div>
  );
}

export function ChatView({ conversationId, me, onIncoming, infoOpen, onToggleInfo, onAddFriend, focus }: Props) {
  const { t, lang, errorText } = useI18n();
  const social = useSocial();
  const name = useConversationName(conversationId);
  const kind = conversationKind(conversationId);
  const [messages, setMessages] = useState<Message[]>([]);
  const [hasMore, setHasMore] = useState(true);
  // After a jump to a message: newer messages exist that are not loaded yet.
  const [hasNewer, setHasNewer] = useState(false);
  const [flashId, setFlashId] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  // An image on its way: the preview before it is sent.
  const [draft, setDraft] = useState<Uint8Array | null>(null);
  const [viewing, setViewing] = useState<{ image: ImageContent; sentAt: number } | null>(null);
  // Own images being uploaded: message id → part sent (0–1).
  const [progress, setProgress] = useState<Record<string, number>>({});
  const [dropping, setDropping] = useState(false);
  const scrollRef = useRef<HTMLDivElement>(null);
  const loadingRef = useRef(false);
  const stickToBottom = useRef(false);
  const earlyStatus = useRef(new Map<string, MessageStatus>());
  const convRef = useRef(conversationId);
  // Bumped by every (re)load of the view: answers of an older one are dropped.
  const gen = useRef(0);
  const hasNewerRef = useRef(false);
  const scrollToId = useRef<string | null>(null);
  const onIncomingRef = useRef(onIncoming);
  useLayoutEffect(() => {
    onIncomingRef.current = onIncoming;
  });

  // No React Compiler in this app; the virtualizer instance is read fresh every render.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: messages.length + 1, // row 0: "loading older" / "beginning of the conversation"
    getScrollElement: () => scrollRef.current,
    estimateSize: (i) => (i === 0 ? 48 : estimateRow(messages[i - 1])),
    getItemKey: (i) => (i === 0 ? "__top" : messages[i - 1].id),
    overscan: 12,
    paddingEnd: 8,
    // Chat semantics: when older pages are prepended the visible message stays put, and new
    // messages at the end are followed while the view is at the bottom.
    anchorTo: "end",
    // Not while newer pages are appended below a jumped-to message, nor while it flashes.
    followOnAppend: !hasNewer && !flashId,
    scrollEndThreshold: BOTTOM_SLACK,
  });

  const withEarlyStatus = (m: Message): Message => {
    const s = earlyStatus.current.get(m.id);
    if (!s) return m;
    earlyStatus.current.delete(m.id);
    return { ...m, status: s };
  };

  // The notices are pulled (read diffusion): ask for changes whenever they are opened.
  useEffect(() => {
    if (kind === "notices") refreshNotices().catch(() => {});
  }, [kind]);

  const setNewer = (v: boolean) => {
    hasNewerRef.current = v;
    setHasNewer(v);
  };

  /**
   * Loads the view: the newest page, or (`target`) the history around one message, which is
   * then scrolled into view and flashed. Nothing here sets state synchronously.
   */
  const load = useCallback(
    (target: string | null) => {
      const cid = conversationId;
      const g = ++gen.current;
      loadingRef.current = true;
      const latest = () =>
        loadHistory(cid, PAGE).then((page) => {
          if (gen.current !== g) return;
          stickToBottom.current = true;
          setMessages(page.slice().reverse());
          setHasMore(page.length === PAGE);
          setNewer(false);
        });
      const around = (id: string) =>
        historyAround(cid, id, PAGE).then((page) => {
          if (gen.current !== g) return;
          const list = page.slice().reverse();
          const at = list.findIndex((m) => m.id === id);
          if (at < 0) return latest();
          scrollToId.current = id;
          setMessages(list);
          setHasMore(at >= PAGE);
          setNewer(list.length - 1 - at >= PAGE);
          setFlashId(id);
        });
      (target ? around(target) : latest())
        .catch((e: IpcError) => gen.current === g && setError(errorText(e)))
        .finally(() => {
          if (gen.current !== g) return;
          loadingRef.current = false;
          setLoading(false);
        });
    },
    [conversationId, errorText],
  );

  // First load, and every jump asked by the parent (it keys this view by conversation id).
  const focusId = focus?.messageId ?? null;
  const focusNonce = focus?.nonce ?? 0;
  useEffect(() => {
    convRef.current = conversationId;
    load(focusId);
  }, [conversationId, focusId, focusNonce, load]);

  // The jumped-to message flashes for a moment.
  useEffect(() => {
    if (!flashId) return;
    const timer = window.setTimeout(() => setFlashId(null), FLASH_MS);
    return () => window.clearTimeout(timer);
  }, [flashId]);

  const loadOlder = useCallback(() => {
    if (loadingRef.current || !hasMore || messages.length === 0) return;
    loadingRef.current = true;
    setLoading(true);
    const oldest = messages[0];
    const g = gen.current;
    loadHistory(conversationId, PAGE, { sent_at: oldest.sent_at, id: oldest.id })
      .then((page) => {
        if (gen.current !== g) return;
        setMessages((cur) => {
          const known = new Set(cur.map((m) => m.id));
          return [...page.filter((m) => !known.has(m.id)).reverse(), ...cur];
        });
        setHasMore(page.length === PAGE);
      })
      .catch((e: IpcError) => gen.current === g && setError(errorText(e)))
      .finally(() => {
        if (gen.current !== g) return;
        loadingRef.current = false;
        setLoading(false);
      });
  }, [conversationId, errorText, hasMore, messages]);

  // Below a jumped-to message: the next newer page, from the history around the newest loaded
  // one (the SDK pages history backwards only; `history_around` gives the newer side too).
  const loadNewer = useCallback(() => {
    if (loadingRef.current || !hasNewer || messages.length === 0) return;
    loadingRef.current = true;
    const newest = messages[messages.length - 1];
    const g = gen.current;
    historyAround(conversationId, newest.id, PAGE)
      .then((page) => {
        if (gen.current !== g) return;
        const newer = page.filter((m) => isAfter(m, newest)).reverse();
        setMessages((cur) => {
          const known = new Set(cur.map((m) => m.id));
          return [...cur, ...newer.filter((m) => !known.has(m.id))];
        });
        setNewer(newer.length >= PAGE);
      })
      .catch((e: IpcError) => gen.current === g && setError(errorText(e)))
      .finally(() => {
        if (gen.current === g) loadingRef.current = false;
      });
  }, [conversationId, errorText, hasNewer, messages]);

  // A jump: put the message in the middle of the view once it is rendered.
  useLayoutEffect(() => {
    const id = scrollToId.current;
    if (!id) return;
    const i = messages.findIndex((m) => m.id === id);
    if (i < 0) return;
    scrollToId.current = null;
    virtualizer.scrollToIndex(i + 1, { align: "center" });
  }, [messages, virtualizer]);

  // The first page and own messages jump to the newest message (the virtualizer itself keeps
  // the view still on prepends and follows appends while at the bottom).
  useLayoutEffect(() => {
    if (stickToBottom.current && messages.length > 0) {
      stickToBottom.current = false;
      virtualizer.scrollToEnd();
    }
  }, [messages, virtualizer]);

  // A short first page that does not fill the view: fetch more right away.
  useEffect(() => {
    const el = scrollRef.current;
    if (el && !loading && hasMore && messages.length > 0 && el.scrollHeight <= el.clientHeight + LOAD_MARGIN) {
      loadOlder();
    }
  }, [loading, hasMore, messages.length, loadOlder]);

  // Live updates for this conversation.
  useEffect(() => {
    const offReceived = on("message-received", (m) => {
      if (m.conversation_id !== convRef.current) return;
      // Newer pages are still to come below a jumped-to message: it arrives with them.
      if (!hasNewerRef.current) setMessages((cur) => upsertMessage(cur, m));
      onIncomingRef.current?.(m);
    });
    const offStatus = on("message-status", ({ id, status }) => {
      // A failed upload starts from zero when retried.
      if (status.kind === "failed") {
        setProgress((cur) => {
          if (!(id in cur)) return cur;
          const next = { ...cur };
          delete next[id];
          return next;
        });
      }
      setMessages((cur) => {
        const i = cur.findIndex((m) => m.id === id);
        if (i < 0) {
          earlyStatus.current.set(id, status);
          return cur;
        }
        const next = cur.slice();
        next[i] = { ...cur[i], status };
        return next;
      });
    });
    // A recalled notice (or any message the SDK dropped) disappears from the view.
    const offRemoved = on("message-removed", ({ id, conversation_id }) => {
      if (conversation_id !== convRef.current) return;
      setMessages((cur) => cur.filter((m) => m.id !== id));
    });
    // A stored message replaced by a fuller form of itself (after a core_level upgrade).
    const offUpdated = on("message-updated", (m) => {
      if (m.conversation_id !== convRef.current) return;
      setMessages((cur) => (cur.some((x) => x.id === m.id) ? upsertMessage(cur, m) : cur));
    });
    const offProgress = on("upload-progress", ({ message_id, conversation_id, sent, total }) => {
      if (conversation_id !== convRef.current) return;
      setProgress((cur) => ({ ...cur, [message_id]: total > 0 ? sent / total : 0 }));
    });
    return () => {
      offReceived();
      offStatus();
      offRemoved();
      offUpdated();
      offProgress();
    };
  }, []);

  const onScroll = () => {
    const el = scrollRef.current;
    if (!el) return;
    if (el.scrollTop < LOAD_MARGIN) loadOlder();
    else if (el.scrollHeight - el.scrollTop - el.clientHeight < LOAD_MARGIN) loadNewer();
  };

  /** Shows an own message just stored by the SDK (text, image or sticker) at the bottom. */
  const sent = (m: Message) => {
    if (convRef.current !== conversationId) return;
    // Sent from a jumped-to place: back to the newest messages, where it now is.
    if (hasNewerRef.current) return load(null);
    stickToBottom.current = true;
    setMessages((cur) => upsertMessage(cur, withEarlyStatus(m)));
  };

  const send = async (text: string) => {
    setError(null);
    try {
      sent(await sendText(conversationId, text));
    } catch (e) {
      setError(errorText(e as IpcError));
    }
  };

  // An image from the attach button, a drop or a paste: its bytes go to the preview.
  const attach = (file: File | undefined) => {
    if (!file || !file.type.startsWith("image/")) {
      setError(t("image.onlyImages"));
      return;
    }
    setError(null);
    file.arrayBuffer().then(
      (b) => setDraft(new Uint8Array(b)),
      () => setError(t("image.onlyImages")),
    );
  };

  const sendPrepared = async (image: PreparedImage) => {
    setError(null);
    try {
      const m = await sendImage(conversationId, image);
      setDraft(null);
      sent(m);
    } catch (e) {
      setDraft(null);
      setError(errorText(e as IpcError));
    }
  };

  const sendStickerRef = async ({ pack, id }: StickerRef) => {
    setError(null);
    try {
      sent(await sendSticker(conversationId, pack, id));
    } catch (e) {
      setError(errorText(e as IpcError));
    }
  };

  const openImage = useCallback<OpenImage>((image, m) => setViewing({ image, sentAt: m.sent_at }), []);

  const retry = useCallback(
    async (id: string) => {
      setError(null);
      try {
        const m = await retryMessage(id);
        setMessages((cur) => upsertMessage(cur, m));
      } catch (e) {
        setError(errorText(e as IpcError));
      }
    },
    [errorText],
  );

  // Typing goes user to user only (typeu 92); groups have none.
  const typing = useCallback(() => {
    sendTyping(conversationId).catch(() => {});
  }, [conversationId]);

  const items = virtualizer.getVirtualItems();
  const canWrite = kind === "direct" || (kind === "group" && (!social.groupsLoaded || !!social.group(conversationId)));
  const canAttach = canWrite;
  // HTML5 drag and drop (the window's native drop handler is off): files only.
  const dragsFiles = (e: DragEvent) => canAttach && Array.from(e.dataTransfer.types).includes("Files");

  return (
    <section
      className={`chat chat-${kind}`}
      aria-label={name}
      onDragEnter={(e) => {
        if (!dragsFiles(e)) return;
        e.preventDefault();
        setDropping(true);
      }}
      onDragOver={(e) => {
        if (!dragsFiles(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = "copy";
      }}
      onDragLeave={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDropping(false);
      }}
      onDrop={(e) => {
        if (!dragsFiles(e)) return;
        e.preventDefault();
        setDropping(false);
        attach(imageFiles(e.dataTransfer.files)[0] ?? e.dataTransfer.files[0]);
      }}
    >
      <ChatHeader conversationId={conversationId} me={me} infoOpen={infoOpen} onToggleInfo={onToggleInfo} />
      <ChatBanner conversationId={conversationId} me={me} onAddFriend={onAddFriend} />
      <div className="messages" ref={scrollRef} onScroll={onScroll} data-testid="messages">
        <div className="messages-inner" style={{ height: virtualizer.getTotalSize() }}>
          {items.map((row) => {
            if (row.index === 0) {
              return (
                <div
                  key={row.key}
                  data-index={0}
                  ref={virtualizer.measureElement}
                  className="vrow history-top"
                  style={{ transform: `translateY(${row.start}px)` }}
                >
                  {hasMore ? (loading ? t("chat.loadingOlder") : "") : kind === "notices" ? "" : t("chat.start")}
                </div>
              );
            }
            const j = row.index - 1;
            const m = messages[j];
            const prev = j > 0 ? messages[j - 1] : null;
            const newDay = !prev || !sameDay(prev.sent_at, m.sent_at);
            const first = newDay || prev.from !== m.from || isSystemMessage(prev);
            let body;
            if (isSystemMessage(m)) body = <SystemLine message={m} me={me} />;
            else if (m.typeu === TYPEU_NOTICE) body = <NoticeCard message={m} />;
            else if (kind === "group")
              body = <GroupBubble m={m} first={first} onRetry={retry} progress={progress[m.id]} onOpenImage={openImage} />;
            else body = <MessageBubble message={m} first={first} onRetry={retry} progress={progress[m.id]} onOpenImage={openImage} />;
            return (
              <div
                key={row.key}
                data-index={row.index}
                ref={virtualizer.measureElement}
                className={`vrow${m.id === flashId ? " flash" : ""}`}
                data-flash={m.id === flashId ? "true" : undefined}
                style={{ transform: `translateY(${row.start}px)` }}
              >
                {newDay && (
                  <div className="day-sep">
                    <span>{dayLabel(m.sent_at, lang, t)}</span>
                  </div>
                )}
                {body}
              </div>
            );
          })}
        </div>
      </div>
      {hasNewer && (
        <button
          type="button"
          className="jump-latest"
          onClick={() => load(null)}
          aria-label={t("chat.jumpLatest")}
          title={t("chat.jumpLatest")}
          data-testid="jump-latest"
        >
          <ArrowDownIcon />
        </button>
      )}
      {kind === "notices" ? (
        error && (
          <div className="composer-error pad" role="alert">
            {error}
          </div>
        )
      ) : (
        <Composer
          onSend={send}
          error={error}
          disabled={!canWrite}
          onTyping={kind === "direct" ? typing : undefined}
          onAttach={canAttach ? attach : undefined}
          onSticker={canAttach ? (s) => void sendStickerRef(s) : undefined}
        />
      )}
      {dropping && (
        <div className="drop-overlay" data-testid="drop-overlay">
          <span>{t("composer.dropHere")}</span>
        </div>
      )}
      {draft && <ImagePreview bytes={draft} onSend={sendPrepared} onCancel={() => setDraft(null)} />}
      {viewing && <ImageViewer image={viewing.image} sentAt={viewing.sentAt} onClose={() => setViewing(null)} />}
    </section>
  );
}
