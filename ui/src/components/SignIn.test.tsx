import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../ipc";
import type { Settings } from "../ipc/types";
import { renderI18n } from "../test/render";
import { SignIn } from "./SignIn";

vi.mock("../ipc");

const settings: Settings = { server_url: "http://localhost:8080", notifications: true, theme: "system", language: "en" };

beforeEach(() => vi.resetAllMocks());

function setup(notice?: string) {
  const onSignedIn = vi.fn();
  const onServerChange = vi.fn().mockResolvedValue(undefined);
  renderI18n(<SignIn settings={settings} notice={notice} onSignedIn={onSignedIn} onServerChange={onServerChange} />);
  return { onSignedIn, onServerChange };
}

describe("SignIn", () => {
  it("validates before calling the backend", async () => {
    setup();
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(screen.getByText(/Username: 3–32 characters/)).toBeInTheDocument();
    expect(screen.getByText("Enter your password")).toBeInTheDocument();
    expect(ipc.login).not.toHaveBeenCalled();
    await userEvent.clear(screen.getByLabelText("Server address"));
    await userEvent.type(screen.getByLabelText("Username"), "a b");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(screen.getByText(/Enter the server address/)).toBeInTheDocument();
    expect(screen.getByLabelText("Username")).toHaveAttribute("aria-invalid", "true");
  });

  it("signs in with remember me", async () => {
    const account = { user_id: "7", username: "alice", server: "localhost_8080" };
    vi.mocked(ipc.login).mockResolvedValue(account);
    const { onSignedIn } = setup();
    await userEvent.type(screen.getByLabelText("Username"), "alice");
    await userEvent.type(screen.getByLabelText("Password"), "secret");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(ipc.login).toHaveBeenCalledWith("alice", "secret", true);
    expect(onSignedIn).toHaveBeenCalledWith(account);
  });

  it("shows a command error translated by kind", async () => {
    vi.mocked(ipc.login).mockRejectedValue({ kind: "invalid_credentials", message: "invalid username or password" });
    const { onSignedIn } = setup();
    await userEvent.type(screen.getByLabelText("Username"), "alice");
    await userEvent.type(screen.getByLabelText("Password"), "wrong");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByTestId("signin-error")).toHaveTextContent("Wrong username or password.");
    expect(onSignedIn).not.toHaveBeenCalled();
  });

  it("shows the server's message for invalid_request", async () => {
    vi.mocked(ipc.register).mockRejectedValue({ kind: "invalid_request", message: "nickname must be 1 to 64 characters long" });
    setup();
    await userEvent.click(screen.getByRole("button", { name: /Create one/ }));
    await userEvent.type(screen.getByLabelText("Username"), "alice");
    await userEvent.type(screen.getByLabelText("Password"), "short");
    await userEvent.type(screen.getByLabelText("Confirm password"), "other");
    await userEvent.click(screen.getByRole("button", { name: "Create account" }));
    expect(screen.getByText("Password: at least 8 characters")).toBeInTheDocument();
    expect(screen.getByText("The passwords do not match")).toBeInTheDocument();
    expect(ipc.register).not.toHaveBeenCalled();
    await userEvent.clear(screen.getByLabelText("Password"));
    await userEvent.clear(screen.getByLabelText("Confirm password"));
    await userEvent.type(screen.getByLabelText("Password"), "long enough");
    await userEvent.type(screen.getByLabelText("Confirm password"), "long enough");
    await userEvent.click(screen.getByRole("button", { name: "Create account" }));
    expect(ipc.register).toHaveBeenCalledWith("alice", "long enough", undefined);
    expect(await screen.findByTestId("signin-error")).toHaveTextContent("nickname must be 1 to 64 characters long");
  });

  it("saves a changed server address before signing in", async () => {
    vi.mocked(ipc.login).mockResolvedValue({ user_id: "7", username: "alice", server: "x" });
    const { onServerChange } = setup();
    await userEvent.clear(screen.getByLabelText("Server address"));
    await userEvent.type(screen.getByLabelText("Server address"), "http://chat.example:9000");
    await userEvent.type(screen.getByLabelText("Username"), "alice");
    await userEvent.type(screen.getByLabelText("Password"), "pw");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(onServerChange).toHaveBeenCalledWith("http://chat.example:9000");
  });

  it("shows a notice (e.g. kicked out)", () => {
    setup("You were signed out because this account signed in on another device.");
    expect(screen.getByTestId("signin-notice")).toHaveTextContent(/another device/);
  });
});
