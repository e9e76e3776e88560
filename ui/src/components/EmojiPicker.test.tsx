import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { renderI18n } from "../test/render";
import { EmojiPicker } from "./EmojiPicker";
import { searchEmoji } from "../lib/emoji";

const grid = () => screen.getByTestId("emoji-grid");

describe("EmojiPicker", () => {
  it("finds 😀 by 'grin'", async () => {
    expect(searchEmoji("grin").map((e) => e.unicode)).toContain("😀");
    const onPick = vi.fn();
    renderI18n(<EmojiPicker onPick={onPick} onClose={vi.fn()} />);
    await userEvent.type(screen.getByRole("searchbox"), "grin");
    const btn = screen.getByRole("button", { name: "grinning face" });
    expect(btn).toHaveTextContent("😀");
    await userEvent.click(btn);
    expect(onPick).toHaveBeenCalledWith("😀");
  });

  it("says so when nothing matches", async () => {
    renderI18n(<EmojiPicker onPick={vi.fn()} onClose={vi.fn()} />);
    await userEvent.type(screen.getByRole("searchbox"), "zzzzqqq");
    expect(screen.getByText("No emoji found")).toBeInTheDocument();
  });

  it("switches categories", async () => {
    renderI18n(<EmojiPicker onPick={vi.fn()} onClose={vi.fn()} />);
    expect(grid()).toHaveTextContent("😀");
    await userEvent.click(screen.getByRole("tab", { name: "Animals & nature" }));
    expect(grid()).toHaveTextContent("🐶");
    expect(grid()).not.toHaveTextContent("😀");
    await userEvent.click(screen.getByRole("tab", { name: "Food & drink" }));
    expect(grid()).toHaveTextContent("🍕");
  });

  it("remembers recently used emoji in localStorage", async () => {
    const first = renderI18n(<EmojiPicker onPick={vi.fn()} onClose={vi.fn()} />);
    await userEvent.click(screen.getByRole("tab", { name: "Food & drink" }));
    await userEvent.click(screen.getByRole("button", { name: "pizza" }));
    await userEvent.click(screen.getByRole("tab", { name: "Smileys & emotion" }));
    await userEvent.click(screen.getByRole("button", { name: "grinning face" }));
    expect(JSON.parse(localStorage.getItem("hongyan.emoji.recent")!)).toEqual(["😀", "🍕"]);
    first.unmount();
    // A new picker opens on "Recently used", newest first.
    renderI18n(<EmojiPicker onPick={vi.fn()} onClose={vi.fn()} />);
    expect(screen.getByRole("tab", { name: "Recently used" })).toHaveAttribute("aria-selected", "true");
    const buttons = Array.from(grid().querySelectorAll("button")).map((b) => b.textContent);
    expect(buttons).toEqual(["😀", "🍕"]);
  });

  it("closes on Escape", async () => {
    const onClose = vi.fn();
    renderI18n(<EmojiPicker onPick={vi.fn()} onClose={onClose} />);
    await userEvent.keyboard("{Escape}");
    expect(onClose).toHaveBeenCalled();
  });
});
