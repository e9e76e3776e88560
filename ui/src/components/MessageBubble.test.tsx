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
});
