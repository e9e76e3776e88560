import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { I18nProvider } from "../i18n";
import type { Language, Message } from "../ipc/types";

export function renderI18n(ui: ReactElement, lang: Language = "en") {
  return render(<I18nProvider lang={lang}>{ui}</I18nProvider>);
}

let n = 0;
export function msg(over: Partial<Message> = {}): Message {
  n += 1;
  return {
    id: `m${String(n).padStart(6, "0")}`,
    conversation_id: "2",
    from: "1",
    to: "2",
    typeu: 1,
    content: `hello ${n}`,
    sent_at: 1_700_000_000_000 + n * 1000,
    seq: null,
    status: { kind: "sent" },
    outgoing: true,
    ...over,
  };
}
