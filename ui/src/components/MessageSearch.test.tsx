import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../ipc";
import type { SearchHit, SearchPage, SnippetPart } from "../ipc";
import { groupHits } from "../lib/search";
import { friend, group, mockSocial, msg, renderSocial, user } from "../test/render";
import { MessageSearch } from "./MessageSearch";

vi.mock("../ipc");

const hit = (conversation_id: string, sent_at: number, snippet: SnippetPart[], over: Partial<ipc.Message> = {}): SearchHit => ({
  message: msg({ conversation_id, sent_at, outgoing: false, from: conversation_id, content: snippet.map((p) => p.text).join(""), ...over }),
  snippet,
  score: 1,
});
const page = (hits: SearchHit[], next_offset: number | null = null, total = hits.length): SearchPage => ({ total, hits, next_offset });
const parts = (before: string, match: string, after = ""): SnippetPart[] => [
  { text: before, hit: false },
  { text: match, hit: true },
  { text: after, hit: false },
];

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

let social: ReturnType<typeof mockSocial>;
beforeEach(() => {
  vi.resetAllMocks();
  social = mockSocial({ friends: [friend("2", "Bob"), friend("4", "李雷")], groups: [group("g1", "Hikers", "4")] });
  vi.mocked(ipc.getUser).mockImplementation(async (id) => user(id, id === "2" ? "Bob" : id === "4" ? "李雷" : `U${id}`));
  vi.mocked(ipc.indexStatus).mockResolvedValue({ state: "ready", done: 0, total: 0 });
  vi.mocked(ipc.searchMessages).mockResolvedValue(page([]));
});

function renderSearch(over: Partial<Parameters<typeof MessageSearch>[0]> = {}) {
  const props = {
    open: true,
    scope: null,
    focusRequest: 0,
    openedId: null,
    onOpenChange: vi.fn(),
    onClearScope: vi.fn(),
    onPick: vi.fn(),
    ...over,
  };
  renderSocial(<MessageSearch {...props} />);
  return props;
}

describe("groupHits", () => {
  it("groups by conversation in answer order, newest first inside a group", () => {
    const a1 = hit("2", 100, parts("", "x"));
    const b1 = hit("g1", 300, parts("", "x"));
    const a2 = hit("2", 500, parts("", "x"));
    const groups = groupHits([a1, b1, a2]);
    expect(groups.map((g) => g.conversationId)).toEqual(["2", "g1"]);
    expect(groups[0].hits).toEqual([a2, a1]);
  });
});

describe("MessageSearch", () => {
  it("asks once after the typing pauses (debounced), for the whole text", async () => {
    renderSearch();
    await userEvent.type(screen.getByTestId("search-input"), "deliv");
    expect(ipc.searchMessages).not.toHaveBeenCalled();
    await waitFor(() => expect(ipc.searchMessages).toHaveBeenCalledTimes(1));
    expect(ipc.searchMessages).toHaveBeenCalledWith({ text: "deliv", conversationId: undefined, order: "newest", offset: 0, limit: 30 });
  });

  it("never lets an older answer overwrite a newer one", async () => {
    const first = deferred<SearchPage>();
    const second = deferred<SearchPage>();
    vi.mocked(ipc.searchMessages).mockImplementation((q) => (q.text === "消" ? first.promise : second.promise));
    renderSearch();
    const input = screen.getByTestId("search-input");
    await userEvent.type(input, "消");
    await waitFor(() => expect(ipc.searchMessages).toHaveBeenCalledTimes(1));
    await userEvent.type(input, "息");
    await waitFor(() => expect(ipc.searchMessages).toHaveBeenCalledTimes(2));
    await act(async () => second.resolve(page([hit("4", 200, parts("离线", "消息", "推送"))])));
    await act(async () => first.resolve(page([hit("2", 100, parts("", "消", "费"))])));
    const groups = await screen.findAllByTestId("search-group");
    expect(groups.map((g) => g.dataset.id)).toEqual(["4"]);
    expect(screen.getByTestId("search-snippet")).toHaveTextContent("离线消息推送");
  });

  it("groups results with the conversation's name and count, highlights hit parts as text", async () => {
    const evil = "<img src=x onerror=alert(1)>";
    vi.mocked(ipc.searchMessages).mockResolvedValue(
      page([
        hit("g1", 300, parts("see ", "<b>deliv</b>", "ered")),
        hit("2", 200, parts(evil + " was ", "deliv", "ered")),
        hit("g1", 100, parts("", "deliv", "ery"), { from: "4" }),
        hit("notices", 50, parts("", "deliv", "ery report"), { from: "0" }),
      ]),
    );
    renderSearch();
    await userEvent.type(screen.getByTestId("search-input"), "deliv");
    const groups = await screen.findAllByTestId("search-group");
    expect(groups.map((g) => g.dataset.id)).toEqual(["g1", "2", "notices"]);
    expect(within(groups[2]).getByTestId("search-hit-sender")).toHaveTextContent("Notices");
    expect(within(groups[0]).getByText("Hikers")).toBeInTheDocument();
    expect(within(groups[0]).getByTestId("search-group-count")).toHaveTextContent("2");
    expect(await within(groups[1]).findByText("Bob", { selector: ".search-group-name" })).toBeInTheDocument();
    expect(await within(groups[0]).findByText("李雷", { selector: "[data-testid=search-hit-sender]" })).toBeInTheDocument();
    // Markup in messages is text: no elements made from it; the hit parts are <mark>s.
    const panel = screen.getByTestId("search-results");
    expect(panel.querySelector("img, b, script")).toBeNull();
    expect([...panel.querySelectorAll("mark")].map((m) => m.textContent)).toEqual(["<b>deliv</b>", "deliv", "deliv", "deliv"]);
    expect(within(groups[1]).getByTestId("search-snippet")).toHaveTextContent(`${evil} was delivered`);
    expect(screen.getByTestId("search-total")).toHaveTextContent("4 messages");
  });

  it("↑/↓ move through the hits in the shown order, Enter opens, Esc clears then closes", async () => {
    const hits = [hit("2", 300, parts("", "a")), hit("4", 200, parts("", "a")), hit("2", 100, parts("", "a"))];
    vi.mocked(ipc.searchMessages).mockResolvedValue(page(hits));
    const props = renderSearch();
    const input = screen.getByTestId("search-input");
    await userEvent.type(input, "a");
    await screen.findAllByTestId("search-hit");
    // Shown order: group "2" (hits 0 and 2), then group "4" (hit 1).
    await userEvent.keyboard("{ArrowDown}{ArrowDown}");
    expect(screen.getByRole("option", { selected: true })).toHaveAttribute("data-id", hits[1].message.id);
    await userEvent.keyboard("{ArrowUp}{Enter}");
    expect(props.onPick).toHaveBeenCalledWith(hits[2]);
    await userEvent.keyboard("{Escape}");
    expect(input).toHaveValue("");
    expect(props.onOpenChange).not.toHaveBeenCalledWith(false);
    await userEvent.keyboard("{Escape}");
    expect(props.onOpenChange).toHaveBeenCalledWith(false);
  });

  it("pages with “Show more” and switches the order", async () => {
    vi.mocked(ipc.searchMessages).mockImplementation(async (q) =>
      q.offset === 0 ? page([hit("2", 300, parts("", "a"))], 30, 2) : page([hit("2", 100, parts("", "a"))], null, 2),
    );
    renderSearch();
    await userEvent.type(screen.getByTestId("search-input"), "a");
    await userEvent.click(await screen.findByTestId("search-more"));
    await waitFor(() => expect(screen.getAllByTestId("search-hit")).toHaveLength(2));
    expect(ipc.searchMessages).toHaveBeenLastCalledWith(expect.objectContaining({ offset: 30, text: "a" }));
    expect(screen.queryByTestId("search-more")).toBeNull();
    await userEvent.click(screen.getByTestId("search-order-relevance"));
    await waitFor(() => expect(ipc.searchMessages).toHaveBeenLastCalledWith(expect.objectContaining({ order: "relevance", offset: 0 })));
  });

  it("searches one conversation behind a chip; the chip widens to all", async () => {
    const props = renderSearch({ scope: "4" });
    expect(await screen.findByTestId("search-scope")).toHaveTextContent("in 李雷");
    await userEvent.type(screen.getByTestId("search-input"), "周六");
    await waitFor(() => expect(ipc.searchMessages).toHaveBeenCalledWith(expect.objectContaining({ conversationId: "4" })));
    expect(await screen.findByTestId("search-empty")).toHaveTextContent("No messages found for “周六”.");
    await userEvent.click(screen.getByTestId("search-scope-clear"));
    expect(props.onClearScope).toHaveBeenCalled();
  });

  it("shows the index rebuild's progress and asks again when it is done", async () => {
    vi.mocked(ipc.indexStatus).mockResolvedValue({ state: "rebuilding", done: 50, total: 200 });
    vi.mocked(ipc.searchMessages).mockResolvedValue(page([hit("2", 1, parts("", "hi"))]));
    renderSearch();
    expect(await screen.findByTestId("search-indexing")).toHaveTextContent("Indexing your messages… 25%");
    await userEvent.type(screen.getByTestId("search-input"), "hi");
    await waitFor(() => expect(ipc.searchMessages).toHaveBeenCalledTimes(1));
    social.emit("index-progress", { done: 150, total: 200 });
    expect(screen.getByTestId("search-indexing")).toHaveTextContent("75%");
    social.emit("index-progress", { done: 200, total: 200 });
    expect(screen.queryByTestId("search-indexing")).toBeNull();
    await waitFor(() => expect(ipc.searchMessages).toHaveBeenCalledTimes(2));
  });

  it("in 简体中文", async () => {
    renderSocial(
      <MessageSearch open scope={null} focusRequest={0} openedId={null} onOpenChange={() => {}} onClearScope={() => {}} onPick={() => {}} />,
      "zh-CN",
    );
    expect(screen.getByTestId("search-input")).toHaveAttribute("placeholder", "搜索消息");
    expect(screen.getByTestId("search-hint")).toHaveTextContent("搜索所有聊天中的每一条消息。");
  });
});
