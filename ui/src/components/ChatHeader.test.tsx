import { act, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../ipc";
import { TYPING_MS } from "../lib/social";
import { friend, group, mockSocial, renderSocial, user } from "../test/render";
import { ChatHeader } from "./ChatHeader";

vi.mock("../ipc");

beforeEach(() => {
  vi.resetAllMocks();
  vi.mocked(ipc.getUser).mockImplementation(async (id) => user(id, id === "2" ? "Alice" : `User ${id}`));
});
afterEach(() => {
  vi.useRealTimers();
});

describe("ChatHeader", () => {
  it("1:1: online from the friends list and presence events; typing… for ~5 s after the last event", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const s = mockSocial({ friends: [friend("2", "Alice", true)] });
    renderSocial(<ChatHeader conversationId="2" me="1" />);
    const status = await screen.findByText("online");
    expect(status).toHaveAttribute("data-testid", "chat-status");
    expect(screen.getByTestId("presence-dot")).toBeInTheDocument();
    s.emit("typing", { conversation_id: "2", user_id: "2" });
    expect(screen.getByTestId("chat-status")).toHaveTextContent("typing…");
    act(() => vi.advanceTimersByTime(TYPING_MS - 1000));
    s.emit("typing", { conversation_id: "2", user_id: "2" }); // a new event extends it
    act(() => vi.advanceTimersByTime(TYPING_MS - 1000));
    expect(screen.getByTestId("chat-status")).toHaveTextContent("typing…");
    act(() => vi.advanceTimersByTime(1100));
    expect(screen.getByTestId("chat-status")).toHaveTextContent("online");
    s.emit("presence", { user_id: "2", online: false });
    expect(screen.getByTestId("chat-status")).toHaveTextContent("ID 2");
    expect(screen.queryByTestId("presence-dot")).toBeNull();
  });

  it("1:1: a message from the typer ends typing at once", async () => {
    const s = mockSocial({ friends: [friend("2", "Alice", false)] });
    renderSocial(<ChatHeader conversationId="2" me="1" />);
    await screen.findByText("Alice");
    s.emit("typing", { conversation_id: "2", user_id: "2" });
    expect(screen.getByTestId("chat-status")).toHaveTextContent("typing…");
    s.emit("message-received", {
      id: "m1",
      conversation_id: "2",
      from: "2",
      to: "1",
      typeu: 1,
      content: "hi",
      sent_at: 1,
      seq: 1,
      status: { kind: "received" },
      outgoing: false,
    });
    expect(screen.getByTestId("chat-status")).toHaveTextContent("ID 2");
  });

  it("1:1 with a non-friend asks the SDK for presence", async () => {
    mockSocial();
    vi.mocked(ipc.getPresence).mockResolvedValue(true);
    renderSocial(<ChatHeader conversationId="9" me="1" />);
    expect(await screen.findByText("online")).toBeInTheDocument();
    expect(ipc.getPresence).toHaveBeenCalledWith("9");
  });

  it("group: name, member count, who is typing, and the info button", async () => {
    const s = mockSocial({ groups: [group("g3", "Hikers", "2", 4)] });
    const onToggleInfo = vi.fn();
    renderSocial(<ChatHeader conversationId="g3" me="1" onToggleInfo={onToggleInfo} />);
    expect(await screen.findByText("Hikers")).toBeInTheDocument();
    expect(screen.getByTestId("chat-status")).toHaveTextContent("4 members");
    s.emit("typing", { conversation_id: "g3", user_id: "2" });
    expect(await screen.findByText("Alice is typing…")).toBeInTheDocument();
    s.emit("typing", { conversation_id: "g3", user_id: "5" });
    expect(screen.getByTestId("chat-status")).toHaveTextContent("2 people are typing…");
    act(() => screen.getByTestId("group-info-button").click());
    expect(onToggleInfo).toHaveBeenCalled();
    expect(ipc.getPresence).not.toHaveBeenCalled();
  });

  it("notices: a fixed title in both languages", async () => {
    mockSocial();
    renderSocial(<ChatHeader conversationId="notices" me="1" />, "zh-CN");
    expect(screen.getByTestId("chat-name")).toHaveTextContent("系统通知");
    expect(screen.queryByTestId("group-info-button")).toBeNull();
  });
});
