import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { msg, renderI18n } from "../test/render";
import { MessageBubble } from "./MessageBubble";

describe("MessageBubble", () => {
  it("renders an HTML payload literally, as text", () => {
    const payload = '<img src=x onerror=alert(1)><script>alert(2)</script><b>bold</b>';
    const { container } = renderI18n(<MessageBubble message={msg({ content: payload })} />);
    expect(container.querySelector(".bubble-text")!.textContent).toBe(payload);
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("script")).toBeNull();
    expect(container.querySelector("b")).toBeNull();
  });

  it.each([
    ["sending", "Sending"],
    ["sent", "Sent"],
    ["delivered", "Delivered"],
    ["read", "Read"],
  ] as const)("shows the %s status icon on own messages", (kind, label) => {
    const { container } = renderI18n(<MessageBubble message={msg({ status: { kind } })} />);
    const s = container.querySelector(".status")!;
    expect(s.getAttribute("data-status")).toBe(kind);
    expect(s).toHaveAttribute("aria-label", label);
  });

  it("shows no status on received messages", () => {
    const { container } = renderI18n(
      <MessageBubble message={msg({ outgoing: false, from: "2", status: { kind: "received" } })} />,
    );
    expect(container.querySelector(".status")).toBeNull();
    expect(container.querySelector(".msg-row.other")).not.toBeNull();
  });

  it("offers retry on a failed message", async () => {
    const onRetry = vi.fn();
    const m = msg({ status: { kind: "failed", code: 0, reason: "no ack" } });
    const { container } = renderI18n(<MessageBubble message={m} onRetry={onRetry} />);
    expect(container.querySelector(".status")!.getAttribute("data-status")).toBe("failed");
    await userEvent.click(screen.getByRole("button", { name: /Retry/ }));
    expect(onRetry).toHaveBeenCalledWith(m.id);
  });

  it("copies the text", async () => {
    const user = userEvent.setup();
    const m = msg({ content: "copy me" });
    renderI18n(<MessageBubble message={m} />);
    await user.click(screen.getByRole("button", { name: "Copy" }));
    expect(await navigator.clipboard.readText()).toBe("copy me");
  });

  it("says why a message failed: 1101 is 'not friends' in a 1:1 chat, 'not a member' in a group", () => {
    const { rerender } = renderI18n(
      <MessageBubble message={msg({ conversation_id: "2", status: { kind: "failed", code: 1101, reason: "not friends" } })} />,
    );
    expect(screen.getByTestId("failed-reason")).toHaveTextContent("Not friends — add them first");
    rerender(<MessageBubble message={msg({ conversation_id: "g4", to: "g4", status: { kind: "failed", code: 1101, reason: "x" } })} />);
    expect(screen.getByTestId("failed-reason")).toHaveTextContent("You are not a member of this group");
    rerender(<MessageBubble message={msg({ status: { kind: "failed", code: 0, reason: "no ACK from the server" } })} />);
    expect(screen.getByTestId("failed-reason")).toHaveTextContent("no ACK from the server");
    rerender(<MessageBubble message={msg({ status: { kind: "sent" } })} />);
    expect(screen.queryByTestId("failed-reason")).toBeNull();
  });

  it("names the sender of a group message on the first of a run, as text", () => {
    const m = msg({ outgoing: false, from: "7", conversation_id: "g1", status: { kind: "received" } });
    const { rerender } = renderI18n(<MessageBubble message={m} first sender="<i>Zed</i>" />);
    expect(screen.getByTestId("message-sender")).toHaveTextContent("<i>Zed</i>");
    expect(document.querySelector("i")).toBeNull();
    rerender(<MessageBubble message={m} first={false} sender="Zed" />);
    expect(screen.queryByTestId("message-sender")).toBeNull();
  });
});
