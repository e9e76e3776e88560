import { act, render } from "@testing-library/react";
import type { ReactElement } from "react";
import { vi } from "vitest";
import { I18nProvider } from "../i18n";
import * as ipc from "../ipc";
import type { EventMap, EventName, Friend, FriendRequest, Group, Language, Message, UpdateInfo, User } from "../ipc/types";
import { SocialProvider } from "../lib/social";
import { UpdateProvider } from "../lib/update";

/** Renders inside the i18n provider (kept on `rerender`). */
export function renderI18n(ui: ReactElement, lang: Language = "en") {
  return render(ui, { wrapper: ({ children }) => <I18nProvider lang={lang}>{children}</I18nProvider> });
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

/** Renders inside the i18n and the friends/groups providers (needs `vi.mock("../ipc")`). */
export function renderSocial(ui: ReactElement, lang: Language = "en") {
  return render(ui, {
    wrapper: ({ children }) => (
      <I18nProvider lang={lang}>
        <SocialProvider>{children}</SocialProvider>
      </I18nProvider>
    ),
  });
}

export const user = (user_id: string, nickname: string): User => ({ user_id, username: nickname.toLowerCase().replace(/\s+/g, ""), nickname });
export const friend = (user_id: string, nickname: string, online = false): Friend => ({
  ...user(user_id, nickname),
  since: 1_700_000_000_000,
  online,
});
export const group = (group_id: string, name: string, owner: string, member_count = 3): Group => ({
  group_id,
  name,
  owner,
  member_count,
  created_at: 1_700_000_000_000,
});
export const request = (id: number, from: User, to: User, message = ""): FriendRequest => ({
  id,
  from,
  to,
  message,
  status: "pending",
  created_at: 1_700_000_000_000,
});

/** The mocked `on` collects the handlers; `emit` calls them (inside `act`). */
export function mockEvents() {
  const handlers = new Map<string, ((p: unknown) => void)[]>();
  vi.mocked(ipc.on).mockImplementation((name, h) => {
    const list = handlers.get(name) ?? [];
    list.push(h as (p: unknown) => void);
    handlers.set(name, list);
    return () => handlers.set(name, (handlers.get(name) ?? []).filter((x) => x !== h));
  });
  return {
    emit<K extends EventName>(name: K, payload: EventMap[K]) {
      act(() => (handlers.get(name) ?? []).forEach((h) => h(payload)));
    },
    /** How many handlers listen to `name` now. */
    listeners: (name: EventName) => (handlers.get(name) ?? []).length,
  };
}

/** Renders inside the i18n and the app-update providers (needs `vi.mock("../ipc")` and `mockEvents`). */
export function renderUpdate(ui: ReactElement, lang: Language = "en") {
  return render(ui, {
    wrapper: ({ children }) => (
      <I18nProvider lang={lang}>
        <UpdateProvider>{children}</UpdateProvider>
      </I18nProvider>
    ),
  });
}

/** What the mocked IPC answers for the social lists; `on` collects handlers for `emit`. */
export function mockSocial(data: { friends?: Friend[]; incoming?: FriendRequest[]; outgoing?: FriendRequest[]; groups?: Group[] } = {}) {
  const events = mockEvents();
  vi.mocked(ipc.listFriends).mockImplementation(async () => data.friends ?? []);
  vi.mocked(ipc.friendRequests).mockImplementation(async () => ({ incoming: data.incoming ?? [], outgoing: data.outgoing ?? [] }));
  vi.mocked(ipc.listGroups).mockImplementation(async () => data.groups ?? []);
  vi.mocked(ipc.getPresence).mockResolvedValue(false);
  vi.mocked(ipc.sendTyping).mockResolvedValue(null);
  vi.mocked(ipc.refreshNotices).mockResolvedValue(null);
  return { data, emit: events.emit };
}

/** An update the server offers (the app is 0.1.0). */
export const updateInfo = (version: string, notes: string | null = null): UpdateInfo => ({
  version,
  current_version: "0.1.0",
  notes,
  date: "2026-11-20T10:00:00Z",
});

/** A promise the test settles by hand (e.g. an install that is still running). */
export function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
