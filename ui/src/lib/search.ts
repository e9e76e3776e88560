// Message search for the search panel: the query as the user types (debounced, newest answer
// wins), grouping of hits by conversation, and the index's rebuild progress.
import { useCallback, useEffect, useRef, useState } from "react";
import {
  indexStatus,
  on,
  searchMessages,
  type IndexStatus,
  type IpcError,
  type SearchHit,
  type SearchOrder,
} from "../ipc";

export const SEARCH_DEBOUNCE_MS = 150;
export const SEARCH_PAGE = 30;
/** The app's IPC refuses longer queries (src-tauri validates the same bound). */
export const SEARCH_MAX_CHARS = 200;

export interface HitGroup {
  conversationId: string;
  hits: SearchHit[];
}

const newerFirst = (a: SearchHit, b: SearchHit) =>
  b.message.sent_at - a.message.sent_at || (a.message.id < b.message.id ? 1 : a.message.id > b.message.id ? -1 : 0);

/**
 * Hits by conversation. Groups come in the order their first hit has in the answer (newest
 * activity for "newest", best match for "relevance"); inside a group, newest first.
 */
export function groupHits(hits: readonly SearchHit[]): HitGroup[] {
  const groups = new Map<string, SearchHit[]>();
  for (const h of hits) {
    const id = h.message.conversation_id;
    const list = groups.get(id);
    if (list) list.push(h);
    else groups.set(id, [h]);
  }
  return [...groups].map(([conversationId, list]) => ({ conversationId, hits: list.slice().sort(newerFirst) }));
}

export interface SearchParams {
  text: string;
  conversationId: string | null;
  order: SearchOrder;
}

export interface SearchState {
  /** The trimmed query the results belong to ("" when nothing is asked). */
  text: string;
  /**
   * The hits to show: the answer for the current parameters, or while that is on its way the
   * previous answer for another text (`pending` is then true); null when there is none.
   */
  hits: SearchHit[] | null;
  pending: boolean;
  total: number;
  hasMore: boolean;
  loadingMore: boolean;
  error: IpcError | null;
  loadMore: () => void;
}

interface Answer {
  key: string;
  /** The parameters other than the text: a pending answer only stands in for one of the same. */
  scope: string;
  hits: SearchHit[];
  total: number;
  next: number | null;
  error: IpcError | null;
}

const keyOf = (p: SearchParams, text: string, reload: number) => JSON.stringify([text, p.conversationId, p.order, reload]);

/**
 * Searches as the parameters change: waits `SEARCH_DEBOUNCE_MS` after the last change, and only
 * the answer to the newest request is ever shown (an older one arriving late is dropped).
 * Changing `reload` asks again with the same parameters (after the index finished rebuilding).
 */
export function useMessageSearch(params: SearchParams, reload = 0): SearchState {
  const text = params.text.trim().slice(0, SEARCH_MAX_CHARS);
  const { conversationId, order } = params;
  const key = keyOf(params, text, reload);
  const scope = JSON.stringify([conversationId, order]);
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const seq = useRef(0);

  useEffect(() => {
    const id = ++seq.current;
    if (!text) return;
    const timer = window.setTimeout(() => {
      searchMessages({ text, conversationId: conversationId ?? undefined, order, offset: 0, limit: SEARCH_PAGE })
        .then((page) => {
          if (seq.current !== id) return;
          setAnswer({ key, scope, hits: page.hits, total: page.total, next: page.next_offset, error: null });
        })
        .catch((e: IpcError) => {
          if (seq.current !== id) return;
          setAnswer({ key, scope, hits: [], total: 0, next: null, error: e });
        });
    }, SEARCH_DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
  }, [key, scope, text, conversationId, order]);

  const current = answer && answer.key === key ? answer : null;
  // While typing, the previous answer stays (dimmed) until the new one comes; not across a
  // change of conversation or order.
  const standIn = answer && answer.scope === scope ? answer : null;

  const loadMore = useCallback(() => {
    if (!current || current.next === null || loadingMore) return;
    const id = seq.current;
    setLoadingMore(true);
    searchMessages({ text, conversationId: conversationId ?? undefined, order, offset: current.next, limit: SEARCH_PAGE })
      .then((page) => {
        if (seq.current !== id) return;
        setAnswer((a) => {
          if (!a || a.key !== key) return a;
          const known = new Set(a.hits.map((h) => h.message.id));
          return { ...a, hits: [...a.hits, ...page.hits.filter((h) => !known.has(h.message.id))], total: page.total, next: page.next_offset };
        });
      })
      .catch((e: IpcError) => {
        if (seq.current === id) setAnswer((a) => (a && a.key === key ? { ...a, error: e } : a));
      })
      .finally(() => setLoadingMore(false));
  }, [current, loadingMore, text, conversationId, order, key]);

  return {
    text,
    hits: text ? (current?.hits ?? standIn?.hits ?? null) : [],
    pending: !!text && !current,
    total: current?.total ?? 0,
    hasMore: !!current && current.next !== null,
    loadingMore,
    error: current?.error ?? null,
    loadMore,
  };
}

/**
 * The index's state: asked once, then kept current by `index-progress` events. `finished`
 * counts the rebuilds that completed while the app watched (results may have grown).
 */
export function useIndexStatus(): { status: IndexStatus | null; finished: number } {
  const [status, setStatus] = useState<IndexStatus | null>(null);
  const [finished, setFinished] = useState(0);
  const known = useRef<IndexStatus["state"] | null>(null);
  useEffect(() => {
    let live = true;
    indexStatus()
      .then((s) => {
        // An event that came first is newer than this answer.
        if (!live || known.current !== null) return;
        known.current = s.state;
        setStatus(s);
      })
      .catch(() => {});
    const off = on("index-progress", ({ done, total }) => {
      const state = done >= total ? "ready" : "rebuilding";
      if (state === "ready" && known.current !== "ready") setFinished((n) => n + 1);
      known.current = state;
      setStatus({ state, done, total });
    });
    return () => {
      live = false;
      off();
    };
  }, []);
  return { status, finished };
}

/** Whole percent done of a rebuild (0 when the total is not known yet). */
export function indexPercent(s: IndexStatus): number {
  if (s.total <= 0) return 0;
  return Math.min(100, Math.floor((s.done * 100) / s.total));
}
