import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../ipc";
import { friend, group, mockSocial, msg, renderSocial, user } from "../test/render";
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
  mockSocial({ friends: [friend("2", "Bob")] });
  vi.mocked(ipc.getUser).mockResolvedValue({ user_id: "2", username: "bob", nickname: "Bob" });
});

describe("ChatView", () => {
  it("loads history and resolves the peer's name", async () => {
    vi.mocked(ipc.loadHistory).mockResolvedValue([msg({ content: "newest" }), msg({ content: "older" })].reverse());
    renderSocial(<ChatView conversationId="2" me="1" />);
    expect(await screen.findByText("newest")).toBeInTheDocument();
    expect(ipc.loadHistory).toHaveBeenCalledWith("2", 50);
    expect(await screen.findByTestId("chat-name")).toHaveTextContent("Bob");
  });

  it("retries a failed message through the IPC", async () => {
    const failed = msg({ content: "boom", status: { kind: "failed", code: 0, reason: "timeout" } });
    vi.mocked(ipc.loadHistory).mockResolvedValue([failed]);
    vi.mocked(ipc.retryMessage).mockResolvedValue({ ...failed, status: { kind: "sending" } });
    renderSocial(<ChatView conversationId="2" me="1" />);
    await userEvent.click(await screen.findByRole("button", { name: /Retry/ }));
    expect(ipc.retryMessage).toHaveBeenCalledWith(failed.id);
    await waitFor(() => expect(document.querySelector('[data-status="sending"]')).not.toBeNull());
  });

  it("sends through the IPC and shows a send error inline, translated", async () => {
    vi.mocked(ipc.loadHistory).mockResolvedValue([]);
    vi.mocked(ipc.sendText).mockRejectedValue({ kind: "message_too_large", message: "too large" });
    renderSocial(<ChatView conversationId="2" me="1" />);
    await userEvent.type(screen.getByRole("textbox"), "hi{Enter}");
    expect(ipc.sendText).toHaveBeenCalledWith("2", "hi");
    expect(await screen.findByRole("alert")).toHaveTextContent("The message is too long.");
  });
});

describe("ChatView kinds", () => {
  const notice = (id: number, title: string) =>
    msg({ id: `notice-${id}`, typeu: 80, from: "0", conversation_id: "notices", outgoing: false, status: { kind: "received" }, content: JSON.stringify({ id, title, body: `${title} body` }) });

  it("notices: refreshed on open, cards, no composer, a recalled one disappears", async () => {
    const s = mockSocial();
    vi.mocked(ipc.loadHistory).mockResolvedValue([notice(2, "Second"), notice(1, "First")]);
    renderSocial(<ChatView conversationId="notices" me="1" />);
    expect(await screen.findByText("Second")).toBeInTheDocument();
    expect(screen.getAllByTestId("notice-card")).toHaveLength(2);
    expect(ipc.refreshNotices).toHaveBeenCalled();
    expect(screen.queryByRole("textbox")).toBeNull();
    s.emit("message-removed", { id: "notice-1", conversation_id: "notices" });
    await waitFor(() => expect(screen.getAllByTestId("notice-card")).toHaveLength(1));
    s.emit("message-removed", { id: "notice-2", conversation_id: "elsewhere" });
    expect(screen.getAllByTestId("notice-card")).toHaveLength(1);
  });

  it("group: system lines centered, senders named, no typing signal", async () => {
    mockSocial({ groups: [group("g1", "Trip", "1", 3)] });
    vi.mocked(ipc.getUser).mockImplementation(async (id) => user(id, id === "3" ? "Carol" : `U${id}`));
    const created = msg({ typeu: 61, from: "0", conversation_id: "g1", outgoing: false, status: { kind: "received" }, content: JSON.stringify({ event: "created", by: "1", members: ["1", "3"], group: { group_id: "g1", name: "Trip", owner: "1", member_count: 2, created_at: 0 } }) });
    const hello = msg({ from: "3", to: "g1", conversation_id: "g1", outgoing: false, status: { kind: "received" }, content: "hello all" });
    vi.mocked(ipc.loadHistory).mockResolvedValue([hello, created]);
    renderSocial(<ChatView conversationId="g1" me="1" />);
    expect(await screen.findByTestId("system-line")).toHaveTextContent("You created the group “Trip”");
    expect(await screen.findByTestId("message-sender")).toHaveTextContent("Carol");
    await userEvent.type(screen.getByRole("textbox"), "x");
    expect(ipc.sendTyping).not.toHaveBeenCalled();
  });

  it("group I left: a banner and no writing", async () => {
    mockSocial({ groups: [] });
    vi.mocked(ipc.loadHistory).mockResolvedValue([]);
    renderSocial(<ChatView conversationId="g9" me="1" />);
    expect(await screen.findByTestId("not-member-banner")).toBeInTheDocument();
    expect(screen.getByRole("textbox")).toBeDisabled();
  });

  it("1:1 with a non-friend: a banner offering to add them", async () => {
    mockSocial({ friends: [] });
    vi.mocked(ipc.loadHistory).mockResolvedValue([]);
    const onAddFriend = vi.fn();
    renderSocial(<ChatView conversationId="2" me="1" onAddFriend={onAddFriend} />);
    expect(await screen.findByTestId("not-friend-banner")).toHaveTextContent("Bob is not your friend yet");
    await userEvent.click(screen.getByTestId("chat-add-friend"));
    expect(onAddFriend).toHaveBeenCalledWith("2");
  });

  it("1:1 with someone who asked me: accept right in the chat", async () => {
    const data = { incoming: [{ id: 5, from: user("2", "Bob"), to: user("1", "Me"), message: "", status: "pending" as const, created_at: 0 }] };
    mockSocial({ friends: [], ...data });
    vi.mocked(ipc.loadHistory).mockResolvedValue([]);
    vi.mocked(ipc.respondFriendRequest).mockResolvedValue({ ...data.incoming[0], status: "accepted" });
    renderSocial(<ChatView conversationId="2" me="1" />);
    expect(await screen.findByTestId("not-friend-banner")).toHaveTextContent("Bob wants to be your friend.");
    await userEvent.click(screen.getByTestId("chat-accept-friend"));
    expect(ipc.respondFriendRequest).toHaveBeenCalledWith(5, true);
    await waitFor(() => expect(ipc.listFriends).toHaveBeenCalledTimes(2));
  });

  it("1:1 with a friend: no banner", async () => {
    vi.mocked(ipc.loadHistory).mockResolvedValue([msg({ content: "hi" })]);
    renderSocial(<ChatView conversationId="2" me="1" />);
    await screen.findByText("hi");
    expect(screen.queryByTestId("not-friend-banner")).toBeNull();
    await userEvent.type(screen.getByRole("textbox"), "x");
    expect(ipc.sendTyping).toHaveBeenCalledWith("2");
  });
});

describe("ChatView at a search hit", () => {
  // `n` messages around the middle one, newest first (as history_around answers).
  const around = (older: number, newer: number) => {
    const list = Array.from({ length: older + newer + 1 }, (_, i) => msg({ content: `line ${i}`, sent_at: 1_800_000_000_000 + i * 1000 }));
    return { list, target: list[older], page: list.slice().reverse() };
  };

  it("loads the history around the message, flashes it, and offers the way back to the newest", async () => {
    const { target, page } = around(5, 50); // jsdom cannot scroll: keep the target near the top
    vi.mocked(ipc.historyAround).mockResolvedValue(page);
    vi.mocked(ipc.loadHistory).mockResolvedValue([msg({ content: "the newest one" })]);
    renderSocial(<ChatView conversationId="2" me="1" focus={{ messageId: target.id, nonce: 1 }} />);
    const row = await screen.findByText(target.content);
    expect(ipc.historyAround).toHaveBeenCalledWith("2", target.id, 50);
    expect(ipc.loadHistory).not.toHaveBeenCalled();
    expect(row.closest(".vrow")).toHaveAttribute("data-flash", "true");
    await waitFor(() => expect(row.closest(".vrow")).not.toHaveAttribute("data-flash"), { timeout: 3000 });
    // 50 newer came back: there may be more below, so the view offers to jump to the newest.
    await userEvent.click(screen.getByTestId("jump-latest"));
    expect(await screen.findByText("the newest one")).toBeInTheDocument();
    expect(ipc.loadHistory).toHaveBeenCalledWith("2", 50);
    expect(screen.queryByTestId("jump-latest")).toBeNull();
  });

  it("near the end of the conversation: no newer pages, live messages append", async () => {
    const s = mockSocial({ friends: [friend("2", "Bob")] });
    const { target, page } = around(3, 2);
    vi.mocked(ipc.historyAround).mockResolvedValue(page);
    renderSocial(<ChatView conversationId="2" me="1" focus={{ messageId: target.id, nonce: 1 }} />);
    await screen.findByText(target.content);
    expect(screen.queryByTestId("jump-latest")).toBeNull();
    s.emit("message-received", msg({ content: "just now", sent_at: 1_900_000_000_000 }));
    expect(await screen.findByText("just now")).toBeInTheDocument();
  });

  it("a message that is gone opens the newest page instead", async () => {
    vi.mocked(ipc.historyAround).mockResolvedValue([msg({ content: "a neighbour" })]);
    vi.mocked(ipc.loadHistory).mockResolvedValue([msg({ content: "newest" })]);
    renderSocial(<ChatView conversationId="2" me="1" focus={{ messageId: "gone", nonce: 1 }} />);
    expect(await screen.findByText("newest")).toBeInTheDocument();
    expect(document.querySelector("[data-flash]")).toBeNull();
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
