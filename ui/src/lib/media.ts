// Images and stickers in the chat (docs/MEDIA.md): message contents, sizes, recent stickers.
import type { ImageContent, Language, Message, StickerContent } from "../ipc/types";

export const TYPEU_IMAGE = 2;
export const TYPEU_STICKER = 3;

/** The largest box of an image in the chat; a larger image is scaled down into it. */
export const IMAGE_MAX_W = 280;
export const IMAGE_MAX_H = 320;
/** The smallest box side (a 10×10 image still gets something to click). */
export const IMAGE_MIN_SIDE = 48;
/** The box when the content does not say its size. */
const IMAGE_DEFAULT = { w: 240, h: 180 };
/** Stickers are shown at their size, at most this long edge. */
export const STICKER_MAX = 160;

function parseObject(content: string): Record<string, unknown> | null {
  if (!content.startsWith("{")) return null;
  try {
    const v: unknown = JSON.parse(content);
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const isSha = (v: unknown): v is string => typeof v === "string" && /^[0-9a-f]{64}$/.test(v);
const dim = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.round(v) : 0);
const str = (v: unknown): string => (typeof v === "string" ? v : "");

/** The content of an image message; null when it does not parse (shown as "[Image]"). */
export function parseImage(content: string): ImageContent | null {
  const o = parseObject(content);
  if (!o || !isSha(o.sha256)) return null;
  const t = (o.thumb && typeof o.thumb === "object" ? o.thumb : {}) as Record<string, unknown>;
  const w = dim(o.w);
  const h = dim(o.h);
  // A thumb without its own hash: the image itself stands in (it is that small).
  const thumb = isSha(t.sha256)
    ? { sha256: t.sha256, url: str(t.url), w: dim(t.w) || w, h: dim(t.h) || h }
    : { sha256: o.sha256, url: str(o.url), w, h };
  return { sha256: o.sha256, url: str(o.url), mime: str(o.mime), w, h, size: dim(o.size), thumb };
}

/** The content of a sticker message; null when it does not parse (shown as "[Sticker]"). */
export function parseSticker(content: string): StickerContent | null {
  const o = parseObject(content);
  if (!o || typeof o.pack !== "string" || typeof o.id !== "string" || !o.pack || !o.id) return null;
  return { pack: o.pack, id: o.id, url: str(o.url), w: dim(o.w) || STICKER_MAX, h: dim(o.h) || STICKER_MAX };
}

export interface Box {
  w: number;
  h: number;
}

/** The image's box in the chat: its aspect ratio, scaled into IMAGE_MAX_W × IMAGE_MAX_H, never up. */
export function imageBox(w: number, h: number): Box {
  if (!(w > 0 && h > 0)) return { ...IMAGE_DEFAULT };
  const scale = Math.min(1, IMAGE_MAX_W / w, IMAGE_MAX_H / h);
  return {
    w: Math.max(IMAGE_MIN_SIDE, Math.round(w * scale)),
    h: Math.max(IMAGE_MIN_SIDE, Math.round(h * scale)),
  };
}

/** A sticker's box: its own size, the long edge at most STICKER_MAX. */
export function stickerBox(w: number, h: number): Box {
  if (!(w > 0 && h > 0)) return { w: STICKER_MAX, h: STICKER_MAX };
  const scale = Math.min(1, STICKER_MAX / Math.max(w, h));
  return { w: Math.round(w * scale), h: Math.round(h * scale) };
}

/**
 * The height a message's media takes in its row before anything loads (the chat list uses it
 * as the row's size estimate, so images do not move the list when they come into view); null
 * for messages without media.
 */
export function mediaHeight(m: Message): number | null {
  if (m.typeu === TYPEU_IMAGE) {
    const c = parseImage(m.content);
    return c ? imageBox(c.w, c.h).h : null;
  }
  if (m.typeu === TYPEU_STICKER) {
    const c = parseSticker(m.content);
    return c ? stickerBox(c.w, c.h).h : null;
  }
  return null;
}

/** "212 KB", "4.1 MB" (1 KB = 1024 bytes). */
export function formatBytes(n: number, lang: Language = "en"): string {
  const num = (v: number, digits: number) =>
    v.toLocaleString(lang, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  if (n < 1024) return `${n} B`;
  const kb = n / 1024;
  if (kb < 1024) return `${num(kb < 10 ? Math.round(kb * 10) / 10 : Math.round(kb), 1)} KB`;
  const mb = kb / 1024;
  return `${num(Math.round(mb * 10) / 10, 1)} MB`;
}

/** A file name for "Save as…": the message's date and the image's type. */
export function suggestedName(c: ImageContent, sentAt: number): string {
  const ext = { "image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp" }[c.mime] ?? "jpg";
  const d = new Date(sentAt);
  const p = (x: number) => String(x).padStart(2, "0");
  return `hongyan-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}.${ext}`;
}

/** The image files among dropped or pasted files. */
export function imageFiles(files: FileList | File[] | null | undefined): File[] {
  return Array.from(files ?? []).filter((f) => f.type.startsWith("image/"));
}

/**
 * The image files on a clipboard: its `files`, else its file items (some web views list a
 * pasted screenshot only as an item).
 */
export function clipboardImages(data: DataTransfer | null | undefined): File[] {
  if (!data) return [];
  const files = imageFiles(data.files);
  if (files.length > 0) return files;
  return Array.from(data.items ?? [])
    .filter((i) => i.kind === "file" && i.type.startsWith("image/"))
    .map((i) => i.getAsFile())
    .filter((f): f is File => !!f);
}

const carriesFiles = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes("Files");

/**
 * Files dropped anywhere but on a chat must not open in the window (the web view would
 * navigate to the file and replace the app). Returns the cleanup.
 */
export function preventFileDropNavigation(target: Window = window): () => void {
  const stop = (e: DragEvent) => {
    if (carriesFiles(e)) e.preventDefault();
  };
  target.addEventListener("dragover", stop);
  target.addEventListener("drop", stop);
  return () => {
    target.removeEventListener("dragover", stop);
    target.removeEventListener("drop", stop);
  };
}

// Recently used stickers, kept like recent emoji.
const RECENT_KEY = "hongyan.stickers.recent";
const RECENT_MAX = 16;

export interface StickerRef {
  pack: string;
  id: string;
}

export function loadRecentStickers(): StickerRef[] {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(RECENT_KEY) ?? "[]");
    if (!Array.isArray(v)) return [];
    return v
      .filter((x): x is StickerRef => !!x && typeof x === "object" && typeof x.pack === "string" && typeof x.id === "string")
      .map((x) => ({ pack: x.pack, id: x.id }))
      .slice(0, RECENT_MAX);
  } catch {
    return [];
  }
}

export function pushRecentSticker(s: StickerRef): StickerRef[] {
  const next = [{ pack: s.pack, id: s.id }, ...loadRecentStickers().filter((x) => x.pack !== s.pack || x.id !== s.id)].slice(
    0,
    RECENT_MAX,
  );
  try {
    localStorage.setItem(RECENT_KEY, JSON.stringify(next));
  } catch {
    /* storage full or disabled */
  }
  return next;
}
