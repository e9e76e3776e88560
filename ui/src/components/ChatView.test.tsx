import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../ipc";
import { msg, renderI18n } from "../test/render";
import { ChatView, upsertMessage } from "./ChatView";

vi.mock("../ipc");

// jsdom has no layout: give the scroll container a size so the virtualizer renders rows.
const SIZE_PROPS = ["clientHeight", "clientWidth", "offsetHeight", "offsetWidth"] as const;
const saved = new Map<string, PropertyDescriptor | undefined>();
beforeAll(() => {
  for (const p of SIZE_PROPS) {
    saved.set(p, Object.getOwnPropertyDescriptor(HTMLElement.prototype, p));
    Object.defineProperty(HTMLElement.prototype, p, { configurable: true, get: () => (p.endsWith("Height") ? 600 : 800) });
  }
});
afterAll(() => {
  for (const p of SIZE_PROPS) {
    const d = saved.get(p);
    if (d) Object.defineProperty(HTMLElement.prototype, p, d);
    else delete (HTMLElement.prototype as unknown as Record<string, unknown>)[p];
  }
});

beforeEach(() => {
  vi.resetAllMocks();
  vi.mocked(ipc.on).mockReturnValue(() => {});
  vi.mocked(ipc.getUser).mockResolvedValue({ user_id: "2", username: "bob", nickname: "Bob" });
});

describe("ChatView", () => {
  it("loads history and resolves the peer's name", async () => {
    vi.mocked(ipc.loadHistory).mockResolvedValue([msg({ content: "newest" }), msg({ content: "older" })].reverse());
    renderI18n(<ChatView conversationId="2" />);
    expect(await screen.findByText("newest")).toBeInTheDocument();
    expect(ipc.loadHistory).toHaveBeenCalledWith("2", 50);
    expect(await screen.findByTestId("chat-name")).toHaveTextContent("Bob");
  });

  it("retries a failed message through the IPC", async () => {
    const failed = msg({ content: "boom", status: { kind: "failed", code: 0, reason: "timeout" } });
    vi.mocked(ipc.loadHistory).mockResolvedValue([failed]);
    vi.mocked(ipc.retryMessage).mockResolvedValue({ ...failed, status: { kind: "sending" } });
    renderI18n(<ChatView conversationId="2" />);
    await userEvent.click(await screen.findByRole("button", { name: /Retry/ }));
    expect(ipc.retryMessage).toHaveBeenCalledWith(failed.id);
    await waitFor(() => expect(document.querySelector('[data-status="sending"]')).not.toBeNull());
  });

  it("sends through the IPC and shows a send error inline, translated", async () => {
    vi.mocked(ipc.loadHistory).mockResolvedValue([]);
    vi.mocked(ipc.sendText).mockRejectedValue({ kind: "message_too_large", message: "too large" });
    renderI18n(<ChatView conversationId="2" />);
    await userEvent.type(screen.getByRole("textbox"), "hi{Enter}");
    expect(ipc.sendText).toHaveBeenCalledWith("2", "hi");
    expect(await screen.findByRole("alert")).toHaveTextContent("The message is too long.");
  });
});

describe("upsertMessage", () => {
  it("keeps (sent_at, id) order and replaces by id", () => {
    const a = msg({ sent_at: 1 });
    const c = msg({ sent_at: 3 });
    const b = msg({ sent_at: 2 });
    let list = upsertMessage(upsertMessage([], a), c);
    list = upsertMessage(list, b);
    expect(list.map((m) => m.sent_at)).toEqual([1, 2, 3]);
    list = upsertMessage(list, { ...b, content: "changed" });
    expect(list).toHaveLength(3);
    expect(list[1].content).toBe("changed");
  });
});
