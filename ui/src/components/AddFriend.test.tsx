import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../ipc";
import { friend, mockSocial, renderSocial, request, user } from "../test/render";
import { AddFriend } from "./AddFriend";

vi.mock("../ipc");

const me = user("1", "Me");

beforeEach(() => {
  vi.resetAllMocks();
  vi.mocked(ipc.getUser).mockImplementation(async (id) => user(id, id === "9" ? "Carol" : `User ${id}`));
});

describe("AddFriend", () => {
  it("searches, marks self / friends / requested, sends a request with a message", async () => {
    mockSocial({ friends: [friend("3", "Bob")], outgoing: [request(4, me, user("5", "Dan"))] });
    vi.mocked(ipc.searchUsers).mockResolvedValue([me, user("3", "Bob"), user("5", "Dan"), user("9", "Carol")]);
    vi.mocked(ipc.sendFriendRequest).mockResolvedValue(request(6, me, user("9", "Carol"), "hi"));
    renderSocial(<AddFriend me="1" onClose={vi.fn()} />);
    await userEvent.type(screen.getByTestId("add-friend-query"), "a");
    const rows = await screen.findAllByTestId("add-friend-user");
    expect(rows.map((r) => r.querySelector(".tag, button")?.textContent)).toEqual(["You", "Friend", "Requested", "Add"]);
    await userEvent.click(screen.getByTestId("add-friend-pick"));
    await userEvent.type(screen.getByTestId("add-friend-message"), "  hi  ");
    await userEvent.click(screen.getByTestId("add-friend-send"));
    expect(ipc.sendFriendRequest).toHaveBeenCalledWith("9", "hi");
    expect(await screen.findByTestId("add-friend-done")).toHaveTextContent("Request sent to Carol.");
    expect(ipc.friendRequests).toHaveBeenCalledTimes(2); // the outgoing list reloads
  });

  it("opens on a given user; a mutual request makes friends at once", async () => {
    mockSocial();
    vi.mocked(ipc.sendFriendRequest).mockResolvedValue({ ...request(6, user("9", "Carol"), me), status: "accepted" });
    renderSocial(<AddFriend me="1" userId="9" onClose={vi.fn()} />);
    expect(await screen.findByText("Carol")).toBeInTheDocument();
    await userEvent.click(screen.getByTestId("add-friend-send"));
    expect(ipc.sendFriendRequest).toHaveBeenCalledWith("9", "");
    expect(await screen.findByTestId("add-friend-done")).toHaveTextContent("You and Carol are friends now.");
    await waitFor(() => expect(ipc.listFriends).toHaveBeenCalledTimes(2));
  });

  it("shows a refused request as a translated error", async () => {
    mockSocial();
    vi.mocked(ipc.sendFriendRequest).mockRejectedValue({ kind: "already_friends", message: "already" });
    renderSocial(<AddFriend me="1" userId="9" onClose={vi.fn()} />, "zh-CN");
    await userEvent.click(await screen.findByTestId("add-friend-send"));
    expect(await screen.findByRole("alert")).toHaveTextContent("你们已经是好友了。");
    expect(screen.getByTestId("add-friend-send")).toBeEnabled();
  });
});
