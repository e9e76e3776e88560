import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../ipc";
import type { Settings } from "../ipc/types";
import { deferred, mockEvents, renderUpdate, updateInfo } from "../test/render";
import { SignIn } from "./SignIn";
import { UpdateBanner } from "./UpdateBanner";

vi.mock("../ipc");

const settings: Settings = { server_url: "http://localhost:8080", notifications: true, theme: "system", language: "en" };

let events: ReturnType<typeof mockEvents>;
beforeEach(() => {
  vi.resetAllMocks();
  events = mockEvents();
  vi.mocked(ipc.checkUpdate).mockResolvedValue(null);
});

/** The sign-in screen as the app shows it: the update banner above the form. */
function setup(notice?: string) {
  const onSignedIn = vi.fn();
  const onServerChange = vi.fn().mockResolvedValue(undefined);
  renderUpdate(
    <>
      <UpdateBanner />
      <SignIn settings={settings} notice={notice} onSignedIn={onSignedIn} onServerChange={onServerChange} />
    </>,
  );
  return { onSignedIn, onServerChange };
}

async function signIn() {
  await userEvent.type(screen.getByLabelText("Username"), "alice");
  await userEvent.type(screen.getByLabelText("Password"), "secret");
  await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
}

const tooOld = { kind: "client_too_old", message: "This version of Hongyan is too old for the server. Please update the app." };

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

  describe("refused with client_too_old (1027)", () => {
    it("asks for an update and offers Update to X, which installs with the progress in the banner", async () => {
      vi.mocked(ipc.login).mockRejectedValue(tooOld);
      const { onSignedIn } = setup();
      await waitFor(() => expect(ipc.checkUpdate).toHaveBeenCalledTimes(1)); // the start check: none then
      vi.mocked(ipc.checkUpdate).mockResolvedValue(updateInfo("0.2.0"));
      const install = deferred<null>();
      vi.mocked(ipc.installUpdate).mockReturnValue(install.promise);
      await signIn();
      const error = await screen.findByTestId("signin-error");
      expect(error).toHaveTextContent("This server needs a newer version of Hongyan.");
      const button = await screen.findByTestId("signin-update");
      expect(button).toHaveTextContent("Update to 0.2.0");
      expect(ipc.checkUpdate).toHaveBeenCalledTimes(2);
      expect(onSignedIn).not.toHaveBeenCalled();
      // The check showed the banner too; the form's button runs the same install.
      expect(screen.getByTestId("update-banner")).toHaveAttribute("data-version", "0.2.0");
      await userEvent.click(button);
      expect(ipc.installUpdate).toHaveBeenCalledTimes(1);
      expect(screen.getByTestId("signin-update")).toBeDisabled();
      expect(screen.getByTestId("signin-update")).toHaveTextContent("Updating…");
      events.emit("update-progress", { downloaded: 2 * 1024 * 1024, total: 8 * 1024 * 1024 });
      expect(screen.getByTestId("update-progress")).toHaveAttribute("value", String(2 * 1024 * 1024));
      expect(screen.getByTestId("update-detail")).toHaveTextContent("2 MB of 8 MB");
      events.emit("update-installing", null);
      expect(screen.getByTestId("update-status")).toHaveTextContent("Installing…");
      install.resolve(null);
      await waitFor(() => expect(screen.getByTestId("update-status")).toHaveTextContent("Restarting…"));
    });

    it("uses the update the backend announced without asking again", async () => {
      vi.mocked(ipc.login).mockRejectedValue(tooOld);
      setup();
      await waitFor(() => expect(ipc.checkUpdate).toHaveBeenCalledTimes(1));
      events.emit("update-available", updateInfo("0.4.0"));
      await userEvent.click(screen.getByTestId("update-later")); // put off in the banner…
      await signIn();
      // …still offered where the refusal is.
      expect(await screen.findByTestId("signin-update")).toHaveTextContent("Update to 0.4.0");
      expect(ipc.checkUpdate).toHaveBeenCalledTimes(1);
    });

    it("without an update from the server: says to ask the server's operator", async () => {
      vi.mocked(ipc.login).mockRejectedValue(tooOld);
      setup();
      await signIn();
      const error = await screen.findByTestId("signin-error");
      await waitFor(() => expect(error).toHaveTextContent(/ask the server's operator for a newer version/));
      expect(error).toHaveTextContent("This server needs a newer version of Hongyan.");
      expect(screen.queryByTestId("signin-update")).toBeNull();
      expect(screen.queryByTestId("update-banner")).toBeNull();
    });

    it("a build that cannot update itself, or a failed check: the same advice, no button", async () => {
      vi.mocked(ipc.login).mockRejectedValue(tooOld);
      vi.mocked(ipc.checkUpdate).mockRejectedValue({ kind: "unsupported", message: "not a packaged build" });
      setup();
      await signIn();
      await waitFor(() => expect(screen.getByTestId("signin-error")).toHaveTextContent(/ask the server's operator/));
      expect(screen.queryByTestId("signin-update")).toBeNull();
      vi.mocked(ipc.checkUpdate).mockRejectedValue({ kind: "network", message: "connection refused" });
      await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
      await waitFor(() => expect(ipc.checkUpdate).toHaveBeenCalledTimes(3));
      await waitFor(() => expect(screen.getByTestId("signin-error")).toHaveTextContent(/ask the server's operator/));
      expect(screen.queryByText(/connection refused/)).toBeNull();
    });

    it("another error afterwards replaces the advice", async () => {
      vi.mocked(ipc.login).mockRejectedValueOnce(tooOld).mockRejectedValueOnce({ kind: "invalid_credentials", message: "x" });
      setup();
      await signIn();
      await waitFor(() => expect(screen.getByTestId("signin-error")).toHaveTextContent(/ask the server's operator/));
      await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
      await waitFor(() => expect(screen.getByTestId("signin-error")).toHaveTextContent("Wrong username or password."));
      expect(screen.getAllByTestId("signin-error")).toHaveLength(1);
    });
  });
});
