import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { renderI18n } from "../test/render";
import { Composer, TYPING_EVERY_MS } from "./Composer";

describe("Composer", () => {
  it("sends on Enter and clears the box", async () => {
    const onSend = vi.fn();
    renderI18n(<Composer onSend={onSend} />);
    const box = screen.getByRole("textbox", { name: "Write a message…" });
    await userEvent.type(box, "hello there{Enter}");
    expect(onSend).toHaveBeenCalledTimes(1);
    expect(onSend).toHaveBeenCalledWith("hello there");
    expect(box).toHaveValue("");
  });

  it("inserts a new line on Shift+Enter without sending", async () => {
    const onSend = vi.fn();
    renderI18n(<Composer onSend={onSend} />);
    const box = screen.getByRole("textbox");
    await userEvent.type(box, "line one{Shift>}{Enter}{/Shift}line two");
    expect(onSend).not.toHaveBeenCalled();
    expect(box).toHaveValue("line one\nline two");
    await userEvent.type(box, "{Enter}");
    expect(onSend).toHaveBeenCalledWith("line one\nline two");
  });

  it("does not send an empty or blank message", async () => {
    const onSend = vi.fn();
    renderI18n(<Composer onSend={onSend} />);
    const box = screen.getByRole("textbox");
    await userEvent.type(box, "{Enter}");
    await userEvent.type(box, "   {Enter}");
    expect(onSend).not.toHaveBeenCalled();
    expect(screen.getByRole("button", { name: "Send" })).toBeDisabled();
  });

  it("shows an inline error", () => {
    renderI18n(<Composer onSend={vi.fn()} error="The message is too long." />);
    expect(screen.getByRole("alert")).toHaveTextContent("The message is too long.");
  });

  it("inserts a picked emoji at the cursor", async () => {
    renderI18n(<Composer onSend={vi.fn()} />);
    const box = screen.getByRole("textbox");
    await userEvent.type(box, "hi ");
    await userEvent.click(screen.getByRole("button", { name: "Emoji" }));
    await userEvent.type(await screen.findByRole("searchbox", { name: "Search emoji" }), "grinning face");
    await userEvent.click(screen.getByRole("button", { name: "grinning face" }));
    expect(box).toHaveValue("hi 😀");
  });

  it("reports typing while the text changes, at most once a second, never for blank text", async () => {
    let now = 10_000;
    const spy = vi.spyOn(Date, "now").mockImplementation(() => now);
    const onTyping = vi.fn();
    renderI18n(<Composer onSend={vi.fn()} onTyping={onTyping} />);
    const box = screen.getByRole("textbox");
    await userEvent.type(box, "   ");
    expect(onTyping).not.toHaveBeenCalled();
    await userEvent.type(box, "abc");
    expect(onTyping).toHaveBeenCalledTimes(1);
    now += TYPING_EVERY_MS;
    await userEvent.type(box, "d");
    expect(onTyping).toHaveBeenCalledTimes(2);
    spy.mockRestore();
  });

  it("is read-only when disabled (e.g. after leaving a group)", () => {
    renderI18n(<Composer onSend={vi.fn()} disabled />);
    expect(screen.getByRole("textbox")).toBeDisabled();
  });
});
