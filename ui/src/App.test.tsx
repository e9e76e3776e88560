import { act, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "./ipc";
import type { EventMap, EventName, Settings } from "./ipc/types";
import { App } from "./App";
import { translate } from "./i18n";

vi.mock("./ipc");

type Handler = (p: unknown) => void;
let handlers: Map<string, Handler[]>;
function emit<K extends EventName>(name: K, payload: EventMap[K]) {
  (handlers.get(name) ?? []).forEach((h) => h(payload));
}

let settings: Settings;

beforeEach(() => {
  vi.resetAllMocks();
  handlers = new Map();
  settings = { server_url: "http://localhost:8080", notifications: true, theme: "system", language: "en" };
  vi.mocked(ipc.on).mockImplementation((name, h) => {
    const list = handlers.get(name) ?? [];
    list.push(h as Handler);
    handlers.set(name, list);
    return () => handlers.set(name, (handlers.get(name) ?? []).filter((x) => x !== h));
  });
  vi.mocked(ipc.appInfo).mockResolvedValue({ app_version: "0.1.0", core_level: 3, platform: "linux", updates: "supported" });
  vi.mocked(ipc.checkUpdate).mockResolvedValue(null);
  vi.mocked(ipc.getSettings).mockImplementation(async () => settings);
  vi.mocked(ipc.setSettings).mockImplementation(async (s) => (settings = s));
  vi.mocked(ipc.resumeSession).mockResolvedValue({ user_id: "1", username: "me", server: "localhost_8080" });
  vi.mocked(ipc.listConversations).mockResolvedValue([]);
  vi.mocked(ipc.connectionState).mockResolvedValue({ state: "connected" });
  vi.mocked(ipc.getUser).mockResolvedValue({ user_id: "1", username: "me", nickname: "Me" });
  vi.mocked(ipc.markRead).mockResolvedValue(null);
  vi.mocked(ipc.logout).mockResolvedValue(null);
  vi.mocked(ipc.listFriends).mockResolvedValue([]);
  vi.mocked(ipc.friendRequests).mockResolvedValue({ incoming: [], outgoing: [] });
  vi.mocked(ipc.listGroups).mockResolvedValue([]);
  vi.mocked(ipc.getPresence).mockResolvedValue(false);
  vi.mocked(ipc.sendTyping).mockResolvedValue(null);
  vi.mocked(ipc.indexStatus).mockResolvedValue({ state: "ready", done: 0, total: 0 });
});

describe("App", () => {
  it("switches the language to 简体中文 and back", async () => {
    render(<App />);
    expect(await screen.findByRole("heading", { name: "Chats" })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Settings" }));
    expect(screen.getByTestId("app-version")).toHaveTextContent("0.1.0");
    expect(screen.getByTestId("core-level")).toHaveTextContent("3");
    await userEvent.selectOptions(screen.getByRole("combobox", { name: "Language" }), "zh-CN");
    expect(ipc.setSettings).toHaveBeenCalledWith(expect.objectContaining({ language: "zh-CN" }));
    expect(await screen.findByRole("heading", { name: "设置" })).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "聊天" })).toBeInTheDocument();
    expect(document.documentElement.lang).toBe("zh-CN");
    await userEvent.selectOptions(screen.getByRole("combobox", { name: "语言" }), "en");
    expect(await screen.findByRole("heading", { name: "Settings" })).toBeInTheDocument();
  });

  it("applies the theme", async () => {
    render(<App />);
    await userEvent.click(await screen.findByRole("button", { name: "Settings" }));
    await userEvent.selectOptions(screen.getByRole("combobox", { name: "Theme" }), "dark");
    expect(document.documentElement.getAttribute("data-theme")).toBe("dark");
    await userEvent.selectOptions(screen.getByRole("combobox", { name: "Theme" }), "system");
    expect(document.documentElement.hasAttribute("data-theme")).toBe(false);
  });

  it("returns to sign-in when kicked out, and says update required on 1027", async () => {
    render(<App />);
    await screen.findByRole("heading", { name: "Chats" });
    emit("kicked-out", { code: 1, reason: "logged in elsewhere" });
    expect(await screen.findByTestId("signin-notice")).toHaveTextContent(translate("en", "notice.kicked"));
    vi.mocked(ipc.login).mockResolvedValue({ user_id: "1", username: "me", server: "x" });
    await userEvent.type(screen.getByLabelText("Username"), "alice");
    await userEvent.type(screen.getByLabelText("Password"), "pw");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    await screen.findByRole("heading", { name: "Chats" });
    emit("login-rejected", { code: 1027, message: "client too old" });
    expect(await screen.findByTestId("signin-notice")).toHaveTextContent(/Update required/);
  });

  it("shows the connection banner and selects a chat on open-conversation", async () => {
    vi.mocked(ipc.loadHistory).mockResolvedValue([]);
    render(<App />);
    await screen.findByRole("heading", { name: "Chats" });
    emit("connection-state", { state: "reconnecting", attempt: 2, in_ms: 3000 });
    expect(await screen.findByTestId("connection-banner")).toHaveTextContent("Reconnecting in 3 s (attempt 2)");
    emit("connection-state", { state: "connected" });
    await waitFor(() => expect(screen.queryByTestId("connection-banner")).toBeNull());
    emit("open-conversation", { conversation_id: "42" });
    await waitFor(() => expect(ipc.loadHistory).toHaveBeenCalledWith("42", 50));
    expect(ipc.markRead).toHaveBeenCalledWith("42");
  });

  it("shows the update banner on top of the main window, and of the sign-in screen after 1027", async () => {
    render(<App />);
    await screen.findByRole("heading", { name: "Chats" });
    expect(screen.queryByTestId("update-banner")).toBeNull();
    act(() => emit("update-available", { version: "0.2.0", current_version: "0.1.0", notes: null, date: null }));
    const banner = await screen.findByTestId("update-banner");
    expect(banner).toHaveTextContent("Hongyan 0.2.0 is available");
    // On top: before the main window in the frame.
    expect(banner.parentElement?.firstElementChild).toBe(banner);
    expect(banner.nextElementSibling).toHaveClass("main-window");
    // The backend announces the update and refuses the session (1027): the banner stays.
    act(() => emit("login-rejected", { code: 1027, message: "client too old" }));
    await screen.findByTestId("signin-notice");
    expect(screen.getByTestId("update-banner").nextElementSibling).toHaveClass("signin-screen");
  });
});
