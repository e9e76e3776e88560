import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../ipc";
import type { Conversation } from "../ipc/types";
import { mockSocial, renderSocial } from "../test/render";
import { ConversationList, sortConversations } from "./ConversationList";

vi.mock("../ipc");

const names: Record<string, string> = { "10": "Alice", "11": "Bob", "12": "Carol" };

beforeEach(() => {
  vi.resetAllMocks();
  mockSocial();
  vi.mocked(ipc.getUser).mockImplementation(async (id: string) => {
    if (!names[id]) throw { kind: "not_found", message: "no such user" };
    return { user_id: id, username: names[id].toLowerCase(), nickname: names[id] };
  });
});

const conv = (id: string, last_at: number, unread = 0, last_text: string | null = `from ${id}`): Conversation => ({
  id,
  last_message_id: null,
  last_text,
  last_at,
  unread,
});

describe("ConversationList", () => {
  it("sorts by activity, newest first", () => {
    const sorted = sortConversations([conv("10", 100), conv("11", 300), conv("12", 200)]);
    expect(sorted.map((c) => c.id)).toEqual(["11", "12", "10"]);
  });

  it("renders names, last messages, unread badges, in order", async () => {
    const onSelect = vi.fn();
    const now = Date.now();
    renderSocial(
      <ConversationList
        conversations={[conv("10", now - 5000, 0), conv("11", now, 3), conv("99", now - 1000, 1200)]}
        selected={null}
        onSelect={onSelect}
        me="1"
      />,
    );
    const rows = screen.getAllByTestId("conversation");
    expect(rows.map((r) => r.getAttribute("data-id"))).toEqual(["11", "99", "10"]);
    expect(await within(rows[0]).findByText("Bob")).toBeInTheDocument();
    // Unknown users fall back to their id.
    expect(within(rows[1]).getByText("99", { selector: ".conv-name" })).toBeInTheDocument();
    expect(within(rows[0]).getByTestId("unread")).toHaveTextContent("3");
    expect(within(rows[1]).getByTestId("unread")).toHaveTextContent("999+");
    expect(within(rows[2]).queryByTestId("unread")).toBeNull();
    expect(within(rows[2]).getByText("from 10")).toBeInTheDocument();
    await userEvent.click(rows[2]);
    expect(onSelect).toHaveBeenCalledWith("10");
  });

  it("shows an empty state", () => {
    renderSocial(<ConversationList conversations={[]} selected={null} onSelect={vi.fn()} me="1" />);
    expect(screen.getByText(/No chats yet/)).toBeInTheDocument();
  });

  it("pins the notices on top and shows group names from the groups list", async () => {
    mockSocial({ groups: [{ group_id: "g5", name: "Hikers", owner: "10", member_count: 3, created_at: 0 }] });
    const now = Date.now();
    renderSocial(
      <ConversationList
        conversations={[conv("11", now), conv("notices", now - 99_000, 2, "[Notice] Maintenance"), conv("g5", now - 1000)]}
        selected={null}
        onSelect={vi.fn()}
        me="1"
      />,
    );
    const rows = screen.getAllByTestId("conversation");
    expect(rows.map((r) => r.getAttribute("data-id"))).toEqual(["notices", "11", "g5"]);
    expect(within(rows[0]).getByText("Notices")).toBeInTheDocument();
    expect(within(rows[0]).getByTestId("unread")).toHaveTextContent("2");
    expect(within(rows[0]).getByText("Maintenance")).toBeInTheDocument();
    expect(await within(rows[2]).findByText("Hikers")).toBeInTheDocument();
    expect(sortConversations([conv("2", 5), conv("notices", 1)]).map((c) => c.id)).toEqual(["notices", "2"]);
  });
});
