import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../ipc";
import { friend, group, mockSocial, renderSocial, request, user } from "../test/render";
import { ContactsView } from "./ContactsView";

vi.mock("../ipc");

const me = user("1", "Me");
const props = () => ({ onOpenChat: vi.fn(), onAddFriend: vi.fn(), onNewGroup: vi.fn() });

beforeEach(() => {
  vi.resetAllMocks();
});

describe("ContactsView", () => {
  it("lists friends online first, then by name, with presence from events", async () => {
    const s = mockSocial({ friends: [friend("5", "Zoe", false), friend("3", "Bob", true), friend("4", "Amy", false), friend("6", "Cy", true)] });
    renderSocial(<ContactsView {...props()} />);
    await screen.findByText("Zoe");
    const order = () => screen.getAllByTestId("friend").map((r) => `${r.dataset.id}:${r.dataset.online}`);
    expect(order()).toEqual(["3:true", "6:true", "4:false", "5:false"]);
    expect(screen.getByText("Friends (4)")).toBeInTheDocument();
    s.emit("presence", { user_id: "5", online: true });
    await waitFor(() => expect(order()).toEqual(["3:true", "6:true", "5:true", "4:false"]));
    expect(within(screen.getAllByTestId("friend")[2]).getByTestId("presence-dot")).toBeInTheDocument();
  });

  it("accepts and declines incoming requests; shows outgoing as pending; request text stays text", async () => {
    const evil = "<img src=x onerror=alert(1)>hi";
    const data = {
      incoming: [request(7, user("8", "Eve"), me, evil), request(9, user("10", "Frank"), me)],
      outgoing: [request(11, me, user("12", "Gus"), "let's be friends")],
    };
    mockSocial(data);
    vi.mocked(ipc.respondFriendRequest).mockImplementation(async (id, accept) => {
      const r = data.incoming.find((x) => x.id === id)!;
      data.incoming = data.incoming.filter((x) => x.id !== id);
      return { ...r, status: accept ? "accepted" : "declined" };
    });
    renderSocial(<ContactsView {...props()} />);
    const eve = await screen.findByText(evil);
    expect(eve.querySelector("img")).toBeNull();
    expect(within(screen.getByTestId("outgoing-request")).getByText("Pending")).toBeInTheDocument();

    const rows = screen.getAllByTestId("friend-request");
    await userEvent.click(within(rows[0]).getByTestId("accept-request"));
    expect(ipc.respondFriendRequest).toHaveBeenCalledWith(7, true);
    await waitFor(() => expect(screen.getAllByTestId("friend-request")).toHaveLength(1));
    expect(ipc.listFriends).toHaveBeenCalledTimes(2); // once at start, again after accepting
    await userEvent.click(screen.getByTestId("decline-request"));
    expect(ipc.respondFriendRequest).toHaveBeenCalledWith(9, false);
    await waitFor(() => expect(screen.queryByTestId("friend-request")).toBeNull());
  });

  it("shows a request that arrives as an event, and drops it when answered elsewhere", async () => {
    const s = mockSocial();
    renderSocial(<ContactsView {...props()} />);
    await screen.findByText(/No friends yet/);
    const r = request(3, user("9", "Ivy"), me, "hello");
    s.emit("friend-request", r);
    expect(await screen.findByTestId("friend-request")).toHaveTextContent("Ivy");
    s.emit("friend-request-updated", { ...r, status: "declined" });
    await waitFor(() => expect(screen.queryByTestId("friend-request")).toBeNull());
  });

  it("removes a friend only after confirming", async () => {
    const data = { friends: [friend("3", "Bob", true), friend("4", "Amy")] };
    mockSocial(data);
    vi.mocked(ipc.removeFriend).mockImplementation(async (id) => {
      data.friends = data.friends.filter((f) => f.user_id !== id);
      return null;
    });
    const p = props();
    renderSocial(<ContactsView {...p} />);
    const bob = await screen.findByText("Bob");
    await userEvent.click(bob);
    expect(p.onOpenChat).toHaveBeenCalledWith("3");
    const row = screen.getAllByTestId("friend")[0];
    await userEvent.click(within(row).getByTestId("remove-friend"));
    expect(screen.getByTestId("confirm-dialog")).toHaveTextContent("Remove Bob from your friends?");
    await userEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(ipc.removeFriend).not.toHaveBeenCalled();
    await userEvent.click(within(row).getByTestId("remove-friend"));
    await userEvent.click(screen.getByTestId("confirm-ok"));
    expect(ipc.removeFriend).toHaveBeenCalledWith("3");
    await waitFor(() => expect(screen.getAllByTestId("friend")).toHaveLength(1));
    expect(screen.queryByTestId("confirm-dialog")).toBeNull();
  });

  it("lists groups and opens them; the action buttons call back", async () => {
    mockSocial({ groups: [group("g2", "Zeta", "1", 1), group("g1", "Alpha", "2", 5)] });
    const p = props();
    renderSocial(<ContactsView {...p} />);
    const groups = await screen.findAllByTestId("group");
    // Avatar initials, name, member count.
    expect(groups.map((g) => g.textContent)).toEqual(["AAlpha5 members", "ZZeta1 member"]);
    await userEvent.click(within(groups[0]).getByText("Alpha"));
    expect(p.onOpenChat).toHaveBeenCalledWith("g1");
    await userEvent.click(screen.getByTestId("add-friend-button"));
    await userEvent.click(screen.getByTestId("new-group-button"));
    expect(p.onAddFriend).toHaveBeenCalled();
    expect(p.onNewGroup).toHaveBeenCalled();
  });

  it("speaks 简体中文", async () => {
    mockSocial({ friends: [friend("3", "Bob", true)] });
    renderSocial(<ContactsView {...props()} />, "zh-CN");
    expect(await screen.findByText("在线")).toBeInTheDocument();
    expect(screen.getByText("添加好友")).toBeInTheDocument();
    expect(screen.getByText("好友（1）")).toBeInTheDocument();
  });
});
