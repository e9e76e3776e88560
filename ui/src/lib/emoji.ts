// Emoji data bundled at build time (no network): emojibase-data, English labels and tags.
import data from "emojibase-data/en/compact.json";

export interface Emoji {
  unicode: string;
  label: string;
  tags: string[];
  group: number;
}

/** Categories shown as tabs (emojibase group numbers; 2 = skin-tone components, skipped). */
export const GROUPS = [0, 1, 3, 4, 5, 6, 7, 8, 9] as const;
export type Group = (typeof GROUPS)[number];

interface Raw {
  unicode: string;
  label: string;
  tags?: string[];
  group?: number;
  order?: number;
}

export const EMOJI: Emoji[] = (data as Raw[])
  .filter((e) => e.group !== undefined && e.group !== 2)
  .sort((a, b) => (a.order ?? 0) - (b.order ?? 0))
  .map((e) => ({ unicode: e.unicode, label: e.label, tags: e.tags ?? [], group: e.group as number }));

export function byGroup(group: number): Emoji[] {
  return EMOJI.filter((e) => e.group === group);
}

/** Matches label words and tags by prefix; the best matches (tag/label start) first. */
export function searchEmoji(query: string, limit = 120): Emoji[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const scored: { e: Emoji; s: number }[] = [];
  for (const e of EMOJI) {
    const label = e.label.toLowerCase();
    let s = 0;
    if (label === q) s = 4;
    else if (e.tags.includes(q)) s = 3;
    else if (label.split(/[\s:,-]+/).some((w) => w.startsWith(q))) s = 2;
    else if (e.tags.some((t) => t.startsWith(q))) s = 1.5;
    else if (label.includes(q)) s = 1;
    if (s > 0) scored.push({ e, s });
  }
  scored.sort((a, b) => b.s - a.s);
  return scored.slice(0, limit).map((x) => x.e);
}

const RECENT_KEY = "hongyan.emoji.recent";
const RECENT_MAX = 32;

export function loadRecent(): string[] {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(RECENT_KEY) ?? "[]");
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string").slice(0, RECENT_MAX) : [];
  } catch {
    return [];
  }
}

export function pushRecent(unicode: string): string[] {
  const next = [unicode, ...loadRecent().filter((u) => u !== unicode)].slice(0, RECENT_MAX);
  try {
    localStorage.setItem(RECENT_KEY, JSON.stringify(next));
  } catch {
    /* storage full or disabled */
  }
  return next;
}
