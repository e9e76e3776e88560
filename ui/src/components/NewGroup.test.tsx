import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../ipc";
import { friend, group, mockSocial, renderSocial } from "../test/render";
import { NewGroup } from "./NewGroup";

vi.mock("../ipc");

beforeEach(() => {
  vi.resetAllMocks();
});

describe("NewGroup", () => {
  it("needs a name and a friend, then creates the group and opens it", async () => {
    mockSocial({ friends: [friend("3", "Bob", true), friend("4", "Amy"), friend("5", "Cy")] });
    vi.mocked(ipc.createGroup).mockResolvedValue(group("g7", "Trip", "1", 3));
    const onCreated = vi.fn();
    renderSocial(<NewGroup onCreated={onCreated} onClose={vi.fn()} />);
    const create = screen.getByTestId("new-group-create");
    expect(create).toBeDisabled();
    await userEvent.type(screen.getByTestId("new-group-name"), "  Trip ");
    expect(create).toBeDisabled();
    await userEvent.click(await screen.findByText("Amy"));
    await userEvent.click(screen.getByText("Bob"));
    expect(screen.getByText("2 selected")).toBeInTheDocument();
    // The filter narrows the list, the selection stays.
    await userEvent.type(screen.getByRole("searchbox", { name: "Search friends" }), "cy");
    expect(screen.getAllByTestId("pick-friend")).toHaveLength(1);
    await userEvent.click(create);
    expect(ipc.createGroup).toHaveBeenCalledWith("Trip", ["4", "3"]);
    expect(onCreated).toHaveBeenCalledWith("g7");
  });

  it("says to add friends first when there are none", async () => {
    mockSocial();
    renderSocial(<NewGroup onCreated={vi.fn()} onClose={vi.fn()} />);
    expect(await screen.findByText("Add friends first to start a group.")).toBeInTheDocument();
  });

  it("shows the server's refusal", async () => {
    mockSocial({ friends: [friend("3", "Bob")] });
    vi.mocked(ipc.createGroup).mockRejectedValue({ kind: "invalid_request", message: "User 3 is not your friend." });
    renderSocial(<NewGroup onCreated={vi.fn()} onClose={vi.fn()} />);
    await userEvent.type(screen.getByTestId("new-group-name"), "X");
    await userEvent.click(await screen.findByText("Bob"));
    await userEvent.click(screen.getByTestId("new-group-create"));
    expect(await screen.findByRole("alert")).toHaveTextContent("User 3 is not your friend.");
  });
});
