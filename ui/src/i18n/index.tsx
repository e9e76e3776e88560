import { createContext, useCallback, useContext, useMemo, type ReactNode } from "react";
import type { IpcError, Language } from "../ipc/types";
import { en, zhCN, type StringKey } from "./strings";

export type { StringKey };
export type Translate = (key: StringKey, vars?: Record<string, string | number>) => string;

const tables: Record<Language, Record<StringKey, string>> = { en, "zh-CN": zhCN };

export function translate(lang: Language, key: StringKey, vars?: Record<string, string | number>): string {
  const s = tables[lang]?.[key] ?? en[key] ?? key;
  if (!vars) return s;
  return s.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

interface I18n {
  lang: Language;
  t: Translate;
  /** A sentence for a command error: translated by kind where we have one. */
  errorText: (e: IpcError) => string;
}

const Ctx = createContext<I18n | null>(null);

export function I18nProvider({ lang, children }: { lang: Language; children: ReactNode }) {
  const t = useCallback<Translate>((key, vars) => translate(lang, key, vars), [lang]);
  const errorText = useCallback(
    (e: IpcError) => {
      const key = `error.${e.kind}` as StringKey;
      // invalid_request carries the server's own explanation; show it as is.
      if (e.kind !== "invalid_request" && key in en) return translate(lang, key);
      return e.message;
    },
    [lang],
  );
  const value = useMemo(() => ({ lang, t, errorText }), [lang, t, errorText]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(Ctx);
  if (!v) throw new Error("useI18n outside I18nProvider");
  return v;
}
