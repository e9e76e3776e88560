import type { Language } from "../ipc/types";
import type { Translate } from "../i18n";

const locale = (lang: Language) => (lang === "zh-CN" ? "zh-CN" : "en-GB");

export function dayKey(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

export function sameDay(a: number, b: number): boolean {
  return dayKey(a) === dayKey(b);
}

export function timeOfDay(ms: number, lang: Language): string {
  return new Date(ms).toLocaleTimeString(locale(lang), { hour: "2-digit", minute: "2-digit" });
}

/** Conversation list: time today, weekday this week, else a short date. */
export function listTime(ms: number, lang: Language, now = Date.now()): string {
  if (!ms) return "";
  if (sameDay(ms, now)) return timeOfDay(ms, lang);
  const days = (now - ms) / 86_400_000;
  if (days < 6) return new Date(ms).toLocaleDateString(locale(lang), { weekday: "short" });
  const sameYear = new Date(ms).getFullYear() === new Date(now).getFullYear();
  return new Date(ms).toLocaleDateString(locale(lang), {
    day: "numeric",
    month: "short",
    ...(sameYear ? {} : { year: "numeric" }),
  });
}

/** Day separator label in the chat view. */
export function dayLabel(ms: number, lang: Language, t: Translate, now = Date.now()): string {
  if (sameDay(ms, now)) return t("chat.today");
  if (sameDay(ms, now - 86_400_000)) return t("chat.yesterday");
  const sameYear = new Date(ms).getFullYear() === new Date(now).getFullYear();
  return new Date(ms).toLocaleDateString(locale(lang), {
    weekday: "long",
    day: "numeric",
    month: "long",
    ...(sameYear ? {} : { year: "numeric" }),
  });
}
