import { act, fireEvent, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../ipc";
import type { ImageQuality, PreparedImage, StickerPack } from "../ipc/types";
import {
  clipboardImages,
  formatBytes,
  imageBox,
  loadRecentStickers,
  parseImage,
  preventFileDropNavigation,
  stickerBox,
} from "../lib/media";
import { friend, mockSocial, msg, renderI18n, renderSocial } from "../test/render";
import { ChatView } from "./ChatView";
import { Composer } from "./Composer";
import { EmojiPicker } from "./EmojiPicker";
import { ImagePreview } from "./ImagePreview";
import { ImageViewer } from "./ImageViewer";
import { MessageBubble } from "./MessageBubble";
import { resetStickerPacks } from "./StickerPanel";

vi.mock("../ipc");

const sha = (c: string) => c.repeat(64);

function prepared(quality: ImageQuality, over: Partial<PreparedImage> = {}): PreparedImage {
  const big = quality !== "standard";
  return {
    sha256: sha(quality === "standard" ? "a" : quality === "hd" ? "b" : "c"),
    mime: "image/jpeg",
    width: big ? 4000 : 1280,
    height: big ? 3000 : 960,
    size: quality === "standard" ? 212 * 1024 : quality === "hd" ? 905 * 1024 : 4.1 * 1024 * 1024,
    original_size: 4.1 * 1024 * 1024,
    kept_original: false,
    thumb: { sha256: sha("d"), width: 320, height: 240, size: 20_000 },
    ...over,
  };
}

const imageContent = (w: number, h: number) =>
  JSON.stringify({
    sha256: sha("e"),
    url: `/api/v1/media/${sha("e")}`,
    mime: "image/jpeg",
    w,
    h,
    size: 200_000,
    thumb: { sha256: sha("f"), url: `/api/v1/media/${sha("f")}`, w: Math.round((w * 320) / Math.max(w, h)), h: Math.round((h * 320) / Math.max(w, h)) },
  });

const imageMessage = (w: number, h: number, over = {}) => msg({ typeu: 2, content: imageContent(w, h), ...over });

const packs: StickerPack[] = [
  {
    id: "goose",
    name: "Goose",
    stickers: [
      { id: "hello", name: "Hello", url: "/api/v1/stickers/goose/hello.png", w: 160, h: 160 },
      { id: "love", name: "Love", url: "/api/v1/stickers/goose/love.png", w: 160, h: 160 },
    ],
  },
];

beforeEach(() => {
  vi.resetAllMocks();
  resetStickerPacks();
  vi.mocked(ipc.mediaUrl).mockImplementation((s) => `blob:media-${s.slice(0, 4)}`);
  vi.mocked(ipc.stickerUrl).mockImplementation((p, id) => `blob:sticker-${p}-${id}`);
});

describe("media helpers", () => {
  it("formats sizes the way the preview shows them", () => {
    expect(formatBytes(4.1 * 1024 * 1024)).toBe("4.1 MB");
    expect(formatBytes(212 * 1024)).toBe("212 KB");
    expect(formatBytes(5.25 * 1024)).toBe("5.3 KB");
    expect(formatBytes(900)).toBe("900 B");
  });

  it("boxes keep the aspect ratio, never upscale, and have a floor", () => {
    expect(imageBox(4000, 3000)).toEqual({ w: 280, h: 210 });
    expect(imageBox(1000, 4000)).toEqual({ w: 80, h: 320 });
    expect(imageBox(100, 50)).toEqual({ w: 100, h: 50 });
    expect(imageBox(2000, 10)).toEqual({ w: 280, h: 48 });
    expect(imageBox(0, 0)).toEqual({ w: 240, h: 180 });
    expect(stickerBox(512, 256)).toEqual({ w: 160, h: 80 });
  });

  it("a file dropped outside a chat does not navigate the window; other drops are left alone", () => {
    const stop = preventFileDropNavigation(window);
    const drop = (types: string[]) => {
      const e = new Event("drop", { cancelable: true }) as Event & { dataTransfer: unknown };
      e.dataTransfer = { types };
      window.dispatchEvent(e);
      return e.defaultPrevented;
    };
    expect(drop(["Files"])).toBe(true);
    expect(drop(["text/plain"])).toBe(false);
    stop();
    expect(drop(["Files"])).toBe(false);
  });

  it("finds pasted images in the clipboard's files, else in its file items", () => {
    const png = new File([new Uint8Array([1])], "a.png", { type: "image/png" });
    const txt = new File(["x"], "a.txt", { type: "text/plain" });
    const dt = (files: File[], items: { kind: string; type: string; getAsFile: () => File | null }[] = []) =>
      ({ files, items }) as unknown as DataTransfer;
    expect(clipboardImages(dt([txt, png]))).toEqual([png]);
    expect(clipboardImages(dt([], [{ kind: "file", type: "image/png", getAsFile: () => png }, { kind: "string", type: "text/plain", getAsFile: () => null }]))).toEqual([png]);
    expect(clipboardImages(dt([txt]))).toEqual([]);
    expect(clipboardImages(null)).toEqual([]);
  });

  it("parses image contents; a bad one is null", () => {
    expect(parseImage(imageContent(800, 600))?.thumb.sha256).toBe(sha("f"));
    expect(parseImage('{"sha256":"nothex"}')).toBeNull();
    expect(parseImage("[Image]")).toBeNull();
    // No thumb: the image stands in for itself.
    expect(parseImage(JSON.stringify({ sha256: sha("1"), w: 10, h: 20 }))?.thumb).toMatchObject({ sha256: sha("1"), w: 10, h: 20 });
  });
});

describe("ImagePreview", () => {
  it("shows original → final size, and the quality change prepares again", async () => {
    vi.mocked(ipc.prepareImage).mockImplementation(async (_bytes, q) => prepared(q));
    const bytes = new Uint8Array([1, 2, 3]);
    const onSend = vi.fn();
    renderI18n(<ImagePreview bytes={bytes} onSend={onSend} onCancel={vi.fn()} />);
    await waitFor(() => expect(screen.getByTestId("image-sizes")).toHaveTextContent("4.1 MB → 212 KB"));
    expect(ipc.prepareImage).toHaveBeenCalledWith(bytes, "standard");
    expect(screen.getByTestId("image-preview-img")).toHaveAttribute("src", "blob:media-aaaa");
    expect(screen.getByTestId("image-dims")).toHaveTextContent("1280 × 960");

    await userEvent.click(screen.getByRole("radio", { name: "HD" }));
    expect(ipc.prepareImage).toHaveBeenLastCalledWith(bytes, "hd");
    await waitFor(() => expect(screen.getByTestId("image-sizes")).toHaveTextContent("4.1 MB → 905 KB"));
    expect(screen.getByRole("radio", { name: "HD" })).toHaveAttribute("aria-checked", "true");

    await userEvent.click(screen.getByTestId("image-send"));
    expect(onSend).toHaveBeenCalledWith(prepared("hd"));
  });

  it("cannot send while preparing; a refused file says why", async () => {
    let reject: (e: unknown) => void = () => {};
    vi.mocked(ipc.prepareImage).mockImplementation(() => new Promise((_, r) => (reject = r)));
    renderI18n(<ImagePreview bytes={new Uint8Array([9])} onSend={vi.fn()} onCancel={vi.fn()} />);
    expect(screen.getByTestId("image-send")).toBeDisabled();
    await act(async () => reject({ kind: "invalid_request", message: "This file is not an image (JPEG, PNG, GIF or WebP)." }));
    expect(await screen.findByRole("alert")).toHaveTextContent("This file is not an image");
    expect(screen.getByTestId("image-send")).toBeDisabled();
  });

  it("Cancel and Esc close it", async () => {
    vi.mocked(ipc.prepareImage).mockImplementation(async (_b, q) => prepared(q));
    const onCancel = vi.fn();
    renderI18n(<ImagePreview bytes={new Uint8Array([1])} onSend={vi.fn()} onCancel={onCancel} />);
    await userEvent.click(screen.getByTestId("image-cancel"));
    await userEvent.keyboard("{Escape}");
    expect(onCancel).toHaveBeenCalledTimes(2);
  });
});

describe("image and sticker bubbles", () => {
  it("reserves the box from the content's w/h before the thumbnail loads", () => {
    renderI18n(<MessageBubble message={imageMessage(4000, 3000)} />);
    const box = screen.getByTestId("image-thumb");
    expect(box.style.width).toBe("280px");
    expect(box.style.height).toBe("210px");
    const img = box.querySelector("img")!;
    expect(img).toHaveAttribute("src", "blob:media-ffff");
    expect(img).toHaveAttribute("width", "280");
    expect(img).toHaveAttribute("height", "210");
    // A portrait photo gets a portrait box.
    renderI18n(<MessageBubble message={imageMessage(3000, 4000)} />);
    const tall = screen.getAllByTestId("image-thumb")[1];
    expect([tall.style.width, tall.style.height]).toEqual(["240px", "320px"]);
  });

  it("shows a progress ring while uploading, none once sent", () => {
    const m = imageMessage(800, 600, { status: { kind: "sending" } });
    const { rerender } = renderI18n(<MessageBubble message={m} progress={0.42} />);
    const ring = screen.getByTestId("upload-progress");
    expect(ring).toHaveAttribute("aria-valuenow", "42");
    expect(ring).toHaveAccessibleName("Uploading… 42%");
    rerender(<MessageBubble message={{ ...m, status: { kind: "sent" } }} progress={1} />);
    expect(screen.queryByTestId("upload-progress")).toBeNull();
  });

  it("a failed upload keeps Retry; a thumbnail that cannot load says 'Image unavailable'", async () => {
    const onRetry = vi.fn();
    const m = imageMessage(800, 600, { status: { kind: "failed", code: 0, reason: "upload failed: network" } });
    renderI18n(<MessageBubble message={m} onRetry={onRetry} />);
    expect(screen.getByTestId("failed-reason")).toHaveTextContent("upload failed: network");
    await userEvent.click(screen.getByTestId("retry-message"));
    expect(onRetry).toHaveBeenCalledWith(m.id);
    fireEvent.error(screen.getByTestId("image-thumb").querySelector("img")!);
    expect(screen.getByTestId("image-unavailable")).toHaveTextContent("Image unavailable");
    expect(screen.getByTestId("image-thumb")).toBeDisabled();
  });

  it("clicking the thumbnail opens the image", async () => {
    const onOpen = vi.fn();
    const m = imageMessage(800, 600, { outgoing: false, status: { kind: "received" } });
    renderI18n(<MessageBubble message={m} onOpenImage={onOpen} />);
    await userEvent.click(screen.getByRole("button", { name: "Open the image" }));
    expect(onOpen).toHaveBeenCalledWith(expect.objectContaining({ sha256: sha("e"), w: 800, h: 600 }), m);
  });

  it("a sticker has no bubble background, its own size, and no copy button", () => {
    const m = msg({ typeu: 3, content: JSON.stringify({ pack: "goose", id: "hello", url: "/x", w: 160, h: 160 }) });
    renderI18n(<MessageBubble message={m} />);
    const s = screen.getByTestId("sticker-message");
    expect([s.style.width, s.style.height]).toEqual(["160px", "160px"]);
    expect(s.querySelector("img")).toHaveAttribute("src", "blob:sticker-goose-hello");
    expect(s.closest(".bubble")).toHaveClass("sticker");
    expect(screen.queryByRole("button", { name: "Copy" })).toBeNull();
  });

  it("a content that does not parse falls back to text", () => {
    renderI18n(<MessageBubble message={msg({ typeu: 2, content: "not json" })} />);
    expect(screen.getByText("[Image]")).toBeInTheDocument();
    expect(screen.queryByTestId("image-thumb")).toBeNull();
  });
});

describe("ImageViewer", () => {
  const image = parseImage(imageContent(1600, 1200))!;

  it("zooms in, out, back to fit; Esc closes", async () => {
    const onClose = vi.fn();
    renderI18n(<ImageViewer image={image} sentAt={0} onClose={onClose} />);
    const img = screen.getByTestId("viewer-img");
    expect(img).toHaveAttribute("src", "blob:media-eeee");
    expect(screen.getByTestId("viewer-fit")).toHaveAttribute("aria-pressed", "true");
    const fit = screen.getByTestId("viewer-zoom").textContent;
    await userEvent.click(screen.getByRole("button", { name: "Zoom in" }));
    expect(screen.getByTestId("viewer-fit")).toHaveAttribute("aria-pressed", "false");
    const zoomed = parseInt(screen.getByTestId("viewer-zoom").textContent!, 10);
    expect(zoomed).toBeGreaterThan(parseInt(fit!, 10));
    // The percentage is rounded: the width matches it to within half a percent.
    expect(Math.abs(parseInt(img.style.width, 10) - (1600 * zoomed) / 100)).toBeLessThanOrEqual(8);
    await userEvent.keyboard("-");
    await userEvent.keyboard("-");
    expect(parseInt(screen.getByTestId("viewer-zoom").textContent!, 10)).toBeLessThan(zoomed);
    await userEvent.keyboard("0");
    expect(screen.getByTestId("viewer-zoom").textContent).toBe(fit);
    await userEvent.keyboard("{Escape}");
    expect(onClose).toHaveBeenCalledTimes(1);
  });

  it("Save as… asks the backend with a suggested name and says where it went", async () => {
    vi.mocked(ipc.saveMedia).mockResolvedValue("/home/me/Pictures/x.jpg");
    renderI18n(<ImageViewer image={image} sentAt={new Date(2026, 0, 2, 3, 4, 5).getTime()} onClose={vi.fn()} />);
    await userEvent.click(screen.getByTestId("viewer-save"));
    expect(ipc.saveMedia).toHaveBeenCalledWith(sha("e"), "hongyan-20260102-030405.jpg");
    expect(await screen.findByTestId("viewer-note")).toHaveTextContent("Saved to /home/me/Pictures/x.jpg");
  });

  it("a cancelled dialog says nothing", async () => {
    vi.mocked(ipc.saveMedia).mockResolvedValue(null);
    renderI18n(<ImageViewer image={image} sentAt={0} onClose={vi.fn()} />);
    await userEvent.click(screen.getByTestId("viewer-save"));
    await waitFor(() => expect(ipc.saveMedia).toHaveBeenCalled());
    expect(screen.queryByTestId("viewer-note")).toBeNull();
  });
});

describe("stickers tab", () => {
  it("shows the packs, sends a sticker and keeps it as recently used", async () => {
    vi.mocked(ipc.stickerPacks).mockResolvedValue(packs);
    const onSticker = vi.fn();
    const onClose = vi.fn();
    const first = renderI18n(<EmojiPicker onPick={vi.fn()} onClose={onClose} onSticker={onSticker} />);
    await userEvent.click(screen.getByRole("tab", { name: "Stickers" }));
    const love = await screen.findByRole("button", { name: "Sticker Love" });
    expect(love.querySelector("img")).toHaveAttribute("src", "blob:sticker-goose-love");
    expect(screen.queryByTestId("sticker-recent")).toBeNull();
    await userEvent.click(love);
    expect(onSticker).toHaveBeenCalledWith({ pack: "goose", id: "love" });
    expect(onClose).toHaveBeenCalled();
    expect(loadRecentStickers()).toEqual([{ pack: "goose", id: "love" }]);
    first.unmount();

    renderI18n(<EmojiPicker onPick={vi.fn()} onClose={vi.fn()} onSticker={onSticker} />);
    await userEvent.click(screen.getByRole("tab", { name: "Stickers" }));
    const recent = await screen.findByTestId("sticker-recent");
    expect(recent.querySelectorAll('[data-testid="sticker"]')).toHaveLength(1);
    expect(recent.querySelector('[data-testid="sticker"]')).toHaveAttribute("data-id", "love");
    // The packs were asked once for both openings.
    expect(ipc.stickerPacks).toHaveBeenCalledTimes(1);
  });

  it("no stickers tab without a way to send them", () => {
    renderI18n(<EmojiPicker onPick={vi.fn()} onClose={vi.fn()} />);
    expect(screen.queryByRole("tab", { name: "Stickers" })).toBeNull();
  });
});

describe("Composer attachments", () => {
  const png = () => new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], "shot.png", { type: "image/png" });

  it("the attach button opens the file input; a picked file goes to onAttach", async () => {
    const onAttach = vi.fn();
    renderI18n(<Composer onSend={vi.fn()} onAttach={onAttach} />);
    const input = screen.getByTestId("attach-input") as HTMLInputElement;
    expect(input.accept).toBe("image/*");
    const click = vi.spyOn(input, "click");
    await userEvent.click(screen.getByRole("button", { name: "Attach an image" }));
    expect(click).toHaveBeenCalled();
    const file = png();
    await userEvent.upload(input, file);
    expect(onAttach).toHaveBeenCalledWith(file);
  });

  it("pasting an image attaches it; pasting text types it", async () => {
    const onAttach = vi.fn();
    renderI18n(<Composer onSend={vi.fn()} onAttach={onAttach} />);
    const box = screen.getByRole("textbox");
    const file = png();
    fireEvent.paste(box, { clipboardData: { files: [file], getData: () => "" } });
    expect(onAttach).toHaveBeenCalledWith(file);
    fireEvent.paste(box, { clipboardData: { files: [], getData: () => "text" } });
    expect(onAttach).toHaveBeenCalledTimes(1);
  });
});

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

describe("ChatView with images", () => {
  const setup = () => {
    const s = mockSocial({ friends: [friend("2", "Bob")] });
    vi.mocked(ipc.getUser).mockResolvedValue({ user_id: "2", username: "bob", nickname: "Bob" });
    vi.mocked(ipc.loadHistory).mockResolvedValue([]);
    vi.mocked(ipc.prepareImage).mockImplementation(async (_b, q) => prepared(q));
    return s;
  };
  const file = () => new File([new Uint8Array([1, 2, 3, 4])], "photo.jpg", { type: "image/jpeg" });

  it("a dropped image is prepared, previewed and sent; the upload's progress shows on the bubble", async () => {
    const s = setup();
    const sent = imageMessage(1280, 960, { status: { kind: "sending" } });
    vi.mocked(ipc.sendImage).mockResolvedValue(sent);
    renderSocial(<ChatView conversationId="2" me="1" />);
    const chat = await screen.findByRole("region", { name: "Bob" });
    const dataTransfer = { types: ["Files"], files: [file()], dropEffect: "none" };
    fireEvent.dragEnter(chat, { dataTransfer });
    expect(screen.getByTestId("drop-overlay")).toHaveTextContent("Drop the image here");
    fireEvent.drop(chat, { dataTransfer });
    expect(screen.queryByTestId("drop-overlay")).toBeNull();
    await waitFor(() => expect(ipc.prepareImage).toHaveBeenCalledWith(new Uint8Array([1, 2, 3, 4]), "standard"));
    await waitFor(() => expect(screen.getByTestId("image-sizes")).toHaveTextContent("4.1 MB → 212 KB"));
    await userEvent.click(screen.getByTestId("image-send"));
    expect(ipc.sendImage).toHaveBeenCalledWith("2", prepared("standard"));
    await waitFor(() => expect(screen.queryByTestId("image-preview")).toBeNull());
    const bubble = await screen.findByTestId("image-thumb");
    expect([bubble.style.width, bubble.style.height]).toEqual(["280px", "210px"]);
    s.emit("upload-progress", { message_id: sent.id, conversation_id: "2", sent: 30, total: 120 });
    expect(screen.getByTestId("upload-progress")).toHaveAttribute("aria-valuenow", "25");
    s.emit("upload-progress", { message_id: sent.id, conversation_id: "other", sent: 120, total: 120 });
    expect(screen.getByTestId("upload-progress")).toHaveAttribute("aria-valuenow", "25");
    // The upload fails: no ring, Retry; retried, the ring starts from zero.
    s.emit("message-status", { id: sent.id, status: { kind: "failed", code: 0, reason: "upload failed: reset" } });
    expect(screen.queryByTestId("upload-progress")).toBeNull();
    expect(screen.getByTestId("failed-reason")).toHaveTextContent("upload failed: reset");
    s.emit("message-status", { id: sent.id, status: { kind: "sending" } });
    expect(screen.getByTestId("upload-progress")).toHaveAttribute("aria-valuenow", "0");
  });

  it("a pasted image goes to the preview too; a non-image is refused with a reason", async () => {
    setup();
    renderSocial(<ChatView conversationId="2" me="1" />);
    const box = await screen.findByRole("textbox");
    fireEvent.paste(box, { clipboardData: { files: [file()], getData: () => "" } });
    await waitFor(() => expect(ipc.prepareImage).toHaveBeenCalledTimes(1));
    await screen.findByTestId("image-preview");
    await userEvent.click(screen.getByTestId("image-cancel"));
    expect(screen.queryByTestId("image-preview")).toBeNull();

    const chat = screen.getByRole("region", { name: "Bob" });
    const text = new File(["hello"], "notes.txt", { type: "text/plain" });
    fireEvent.drop(chat, { dataTransfer: { types: ["Files"], files: [text] } });
    expect(await screen.findByRole("alert")).toHaveTextContent("Only images can be sent");
    expect(ipc.prepareImage).toHaveBeenCalledTimes(1);
  });

  it("a sticker from the picker is sent to this chat", async () => {
    setup();
    vi.mocked(ipc.stickerPacks).mockResolvedValue(packs);
    vi.mocked(ipc.sendSticker).mockResolvedValue(
      msg({ typeu: 3, content: JSON.stringify({ pack: "goose", id: "hello", url: "/x", w: 160, h: 160 }) }),
    );
    renderSocial(<ChatView conversationId="2" me="1" />);
    await userEvent.click(await screen.findByRole("button", { name: "Emoji" }));
    await userEvent.click(await screen.findByRole("tab", { name: "Stickers" }));
    await userEvent.click(await screen.findByRole("button", { name: "Sticker Hello" }));
    expect(ipc.sendSticker).toHaveBeenCalledWith("2", "goose", "hello");
    expect(await screen.findByTestId("sticker-message")).toBeInTheDocument();
  });

  it("clicking an image in the chat opens the viewer; Esc closes it", async () => {
    setup();
    vi.mocked(ipc.loadHistory).mockResolvedValue([imageMessage(800, 600, { outgoing: false, status: { kind: "received" } })]);
    renderSocial(<ChatView conversationId="2" me="1" />);
    await userEvent.click(await screen.findByRole("button", { name: "Open the image" }));
    expect(screen.getByTestId("image-viewer")).toBeInTheDocument();
    await userEvent.keyboard("{Escape}");
    expect(screen.queryByTestId("image-viewer")).toBeNull();
  });
});
