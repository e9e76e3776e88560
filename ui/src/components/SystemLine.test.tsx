import { screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../ipc";
import { translate } from "../i18n";
import { parseGroupEvent, type GroupEvent } from "../lib/conversation";
import { msg, renderI18n, user } from "../test/render";
import { NoticeCard } from "./NoticeCard";
import { groupEventNodes, groupEventText, SystemLine } from "./SystemLine";

vi.mock("../ipc");

const names: Record<string, string> = { "2": "Alice", "3": "Bob", "4": "Carol" };
const t = (lang: "en" | "zh-CN") => (k: Parameters<typeof translate>[1], v?: Record<string, string | number>) => translate(lang, k, v);
const ev = (event: GroupEvent["event"], by: string, members: string[], name = "Trip"): GroupEvent => ({
  event,
  by,
  members,
  group: { group_id: "g1", name, owner: "2", member_count: 3, created_at: 0 },
});

beforeEach(() => {
  vi.resetAllMocks();
  vi.mocked(ipc.getUser).mockImplementation(async (id) => user(id, names[id] ?? id));
});

describe("group events", () => {
  it("read as sentences, the signed-in user as You", () => {
    const name = (id: string) => names[id] ?? id;
    const en = t("en");
    expect(groupEventText(ev("created", "1", ["1", "2"]), name, "1", en)).toBe("You created the group “Trip”");
    expect(groupEventText(ev("renamed", "2", [], "Hike"), name, "1", en)).toBe("Alice renamed the group to “Hike”");
    expect(groupEventText(ev("members_added", "2", ["3", "4"]), name, "1", en)).toBe("Alice added Bob, Carol");
    expect(groupEventText(ev("member_removed", "2", ["1"]), name, "1", en)).toBe("Alice removed You");
    expect(groupEventText(ev("member_left", "3", ["3"]), name, "1", en)).toBe("Bob left the group");
    expect(groupEventText(ev("members_added", "2", ["3", "4"]), name, "1", t("zh-CN"))).toBe("Alice 邀请 Bob、Carol 加入了群聊");
  });

  it("render centered with resolved names; a group name with HTML stays text", async () => {
    const content = JSON.stringify({ ...ev("created", "2", ["2", "3"], "<img src=x onerror=alert(1)>"), members: ["2", "3"] });
    renderI18n(<SystemLine message={msg({ typeu: 61, from: "0", conversation_id: "g1", content, outgoing: false })} me="1" />);
    // The names sit in <bdi> elements (a right-to-left override stays inside its name).
    await waitFor(() => expect(screen.getByTestId("system-line").textContent).toBe("Alice created the group “<img src=x onerror=alert(1)>”"));
    expect([...document.querySelectorAll("bdi")].map((b) => b.textContent)).toEqual(["Alice", "<img src=x onerror=alert(1)>"]);
    expect(document.querySelector("img")).toBeNull();
  });

  it("isolate each user-chosen name, and only those, the text unchanged", () => {
    const name = (id: string) => ({ "2": "\u202Eevil", "3": "Bob" })[id] ?? id;
    const en = t("en");
    const e = ev("members_added", "2", ["3", "1"], "x");
    renderI18n(<p data-testid="line">{groupEventNodes(e, name, "1", en)}</p>);
    expect(screen.getByTestId("line").textContent).toBe(groupEventText(e, name, "1", en));
    expect([...document.querySelectorAll("bdi")].map((b) => b.textContent)).toEqual(["\u202Eevil", "Bob"]);
  });

  it("parse only well-formed contents", () => {
    expect(parseGroupEvent("hello")).toBeNull();
    expect(parseGroupEvent('{"event":"exploded"}')).toBeNull();
    expect(parseGroupEvent('{"event":"member_left","by":"3","members":["3"]}')).toEqual({ event: "member_left", by: "3", members: ["3"], group: null });
  });
});

describe("NoticeCard", () => {
  it("shows title and body as text", () => {
    const title = "<script>alert(1)</script>Hi";
    const body = "line 1\n<b>line 2</b>";
    renderI18n(<NoticeCard message={msg({ typeu: 80, from: "0", conversation_id: "notices", content: JSON.stringify({ id: 3, title, body }), outgoing: false })} />);
    expect(screen.getByTestId("notice-title")).toHaveTextContent(title);
    expect(screen.getByTestId("notice-body").textContent).toBe(body);
    expect(document.querySelector("script, b")).toBeNull();
  });
});
