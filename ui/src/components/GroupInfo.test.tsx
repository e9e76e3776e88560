import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../ipc";
import type { Member } from "../ipc/types";
import { friend, group, mockSocial, renderSocial, user } from "../test/render";
import { GroupInfo, sortMembers } from "./GroupInfo";

vi.mock("../ipc");

const member = (id: string, name: string, role: Member["role"], joined_at: number): Member => ({ ...user(id, name), role, joined_at });

let members: Member[];
beforeEach(() => {
  vi.resetAllMocks();
  members = [member("3", "Bob", "member", 2), member("1", "Me", "owner", 1), member("4", "Amy", "member", 3)];
  vi.mocked(ipc.groupMembers).mockImplementation(async () => members);
});

describe("GroupInfo", () => {
  it("lists members owner first with a badge; the owner may remove one after confirming", async () => {
    mockSocial({ groups: [group("g1", "Trip", "1", 3)], friends: [friend("3", "Bob", true)] });
    vi.mocked(ipc.removeGroupMember).mockResolvedValue(null);
    renderSocial(<GroupInfo groupId="g1" me="1" onClose={vi.fn()} onLeft={vi.fn()} />);
    await screen.findByText("Amy");
    const rows = screen.getAllByTestId("group-member");
    expect(rows.map((r) => `${r.dataset.id}:${r.dataset.role}`)).toEqual(["1:owner", "3:member", "4:member"]);
    expect(within(rows[0]).getByText("Owner")).toBeInTheDocument();
    expect(within(rows[0]).getByText(/you/)).toBeInTheDocument();
    expect(within(rows[0]).queryByTestId("remove-member")).toBeNull();
    expect(within(rows[1]).getByTestId("presence-dot")).toBeInTheDocument(); // a friend, online
    await userEvent.click(within(rows[2]).getByTestId("remove-member"));
    expect(screen.getByTestId("confirm-dialog")).toHaveTextContent("Remove Amy from the group?");
    await userEvent.click(screen.getByTestId("confirm-ok"));
    expect(ipc.removeGroupMember).toHaveBeenCalledWith("g1", "4");
    await waitFor(() => expect(screen.getAllByTestId("group-member")).toHaveLength(2));
  });

  it("shows no remove buttons to a member", async () => {
    mockSocial({ groups: [group("g1", "Trip", "3", 3)] });
    renderSocial(<GroupInfo groupId="g1" me="1" onClose={vi.fn()} onLeft={vi.fn()} />);
    await screen.findByText("Amy");
    expect(screen.queryByTestId("remove-member")).toBeNull();
  });

  it("renames, invites friends who are not members, and reloads members when the group changes", async () => {
    const s = mockSocial({ groups: [group("g1", "Trip", "1", 3)], friends: [friend("3", "Bob"), friend("5", "Cy"), friend("6", "Di")] });
    vi.mocked(ipc.renameGroup).mockResolvedValue(group("g1", "Trip 2026", "1", 3));
    vi.mocked(ipc.addGroupMembers).mockResolvedValue(group("g1", "Trip 2026", "1", 4));
    renderSocial(<GroupInfo groupId="g1" me="1" onClose={vi.fn()} onLeft={vi.fn()} />);
    await screen.findByText("Amy");
    await userEvent.click(screen.getByTestId("group-rename"));
    const input = screen.getByTestId("group-name-input");
    await userEvent.clear(input);
    await userEvent.type(input, "Trip 2026{Enter}");
    expect(ipc.renameGroup).toHaveBeenCalledWith("g1", "Trip 2026");
    expect(await screen.findByTestId("group-info-name")).toHaveTextContent("Trip 2026");

    await userEvent.click(screen.getByTestId("group-invite"));
    const picks = screen.getAllByTestId("pick-friend");
    expect(picks.map((p) => p.dataset.id)).toEqual(["5", "6"]); // Bob is a member already
    await userEvent.click(picks[1]);
    await userEvent.click(screen.getByTestId("group-invite-add"));
    expect(ipc.addGroupMembers).toHaveBeenCalledWith("g1", ["6"]);
    await waitFor(() => expect(ipc.groupMembers).toHaveBeenCalledTimes(2));
    expect(screen.getByText("4 members")).toBeInTheDocument();
    s.emit("group-updated", group("g1", "Trip 2026", "1", 5));
    await waitFor(() => expect(ipc.groupMembers).toHaveBeenCalledTimes(3));
  });

  it("leaves after confirming", async () => {
    mockSocial({ groups: [group("g1", "<b>Trip</b>", "1", 3)] });
    vi.mocked(ipc.leaveGroup).mockResolvedValue(null);
    const onLeft = vi.fn();
    renderSocial(<GroupInfo groupId="g1" me="1" onClose={vi.fn()} onLeft={onLeft} />);
    await screen.findByText("Amy");
    expect(screen.getByTestId("group-info-name")).toHaveTextContent("<b>Trip</b>");
    await userEvent.click(screen.getByTestId("leave-group"));
    expect(screen.getByTestId("confirm-dialog")).toHaveTextContent("Leave “<b>Trip</b>”?");
    expect(document.querySelector("b")).toBeNull();
    await userEvent.click(screen.getByTestId("confirm-ok"));
    expect(ipc.leaveGroup).toHaveBeenCalledWith("g1");
    expect(onLeft).toHaveBeenCalled();
  });

  it("sorts the owner first, then by join time", () => {
    expect(sortMembers(members).map((m) => m.user_id)).toEqual(["1", "3", "4"]);
  });
});
