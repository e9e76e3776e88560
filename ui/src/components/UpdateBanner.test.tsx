import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../ipc";
import { deferred, mockEvents, renderUpdate, updateInfo } from "../test/render";
import { UpdateBanner } from "./UpdateBanner";

vi.mock("../ipc");

let events: ReturnType<typeof mockEvents>;
beforeEach(() => {
  vi.resetAllMocks();
  events = mockEvents();
  vi.mocked(ipc.checkUpdate).mockResolvedValue(null);
});

const banner = () => screen.queryByTestId("update-banner");
const status = () => screen.getByTestId("update-status");

describe("UpdateBanner", () => {
  it("shows nothing until an update is announced", async () => {
    renderUpdate(<UpdateBanner />);
    await waitFor(() => expect(ipc.checkUpdate).toHaveBeenCalledTimes(1));
    expect(banner()).toBeNull();
    events.emit("update-available", updateInfo("0.2.0", "Faster sync"));
    expect(banner()).toHaveAttribute("data-version", "0.2.0");
    expect(status()).toHaveTextContent("Hongyan 0.2.0 is available");
    expect(screen.getByTestId("update-detail")).toHaveTextContent("Faster sync");
    expect(screen.getByTestId("update-install")).toBeEnabled();
    expect(screen.getByTestId("update-later")).toBeEnabled();
  });

  it("shows an update the start check found (its event may come before the page listens)", async () => {
    vi.mocked(ipc.checkUpdate).mockResolvedValue(updateInfo("0.3.1"));
    renderUpdate(<UpdateBanner />);
    expect(await screen.findByTestId("update-banner")).toHaveAttribute("data-version", "0.3.1");
    expect(screen.getByTestId("update-detail")).toHaveTextContent("You have 0.1.0.");
  });

  it("Update now: download progress (known size, then unknown), Installing…, Restarting…", async () => {
    const install = deferred<null>();
    vi.mocked(ipc.installUpdate).mockReturnValue(install.promise);
    renderUpdate(<UpdateBanner />);
    events.emit("update-available", updateInfo("0.2.0"));
    await userEvent.click(screen.getByTestId("update-install"));
    expect(ipc.installUpdate).toHaveBeenCalledTimes(1);
    // Before the first progress event: indeterminate, no buttons.
    let bar = screen.getByTestId("update-progress");
    expect(bar.tagName).toBe("PROGRESS");
    expect(bar).not.toHaveAttribute("value");
    expect(status()).toHaveTextContent("Downloading Hongyan 0.2.0…");
    expect(screen.queryByTestId("update-install")).toBeNull();
    expect(screen.queryByTestId("update-later")).toBeNull();

    events.emit("update-progress", { downloaded: 1536 * 1024, total: 6 * 1024 * 1024 });
    bar = screen.getByTestId("update-progress");
    expect(bar).toHaveAttribute("value", String(1536 * 1024));
    expect(bar).toHaveAttribute("max", String(6 * 1024 * 1024));
    expect(screen.getByTestId("update-detail")).toHaveTextContent("1.5 MB of 6 MB");

    events.emit("update-progress", { downloaded: 3 * 1024 * 1024, total: null });
    expect(screen.getByTestId("update-progress")).not.toHaveAttribute("value");
    expect(screen.getByTestId("update-detail")).toHaveTextContent(/^3 MB$/);

    // The daily check finds an even newer one meanwhile: the banner still names what it installs.
    events.emit("update-available", updateInfo("0.2.1"));
    expect(banner()).toHaveAttribute("data-version", "0.2.0");
    expect(status()).toHaveTextContent("Downloading Hongyan 0.2.0…");

    events.emit("update-installing", null);
    expect(status()).toHaveTextContent("Installing…");
    expect(screen.queryByTestId("update-progress")).toBeNull();
    // A progress event that arrives late does not bring the download back.
    events.emit("update-progress", { downloaded: 6 * 1024 * 1024, total: 6 * 1024 * 1024 });
    expect(status()).toHaveTextContent("Installing…");

    install.resolve(null);
    await waitFor(() => expect(status()).toHaveTextContent("Restarting…"));
    expect(banner()).toHaveAttribute("data-step", "restarting");
    expect(screen.queryByRole("button")).toBeNull();
  });

  it("progress events while no install runs are ignored", () => {
    renderUpdate(<UpdateBanner />);
    events.emit("update-available", updateInfo("0.2.0"));
    events.emit("update-progress", { downloaded: 10, total: 100 });
    events.emit("update-installing", null);
    expect(status()).toHaveTextContent("Hongyan 0.2.0 is available");
    expect(screen.queryByTestId("update-progress")).toBeNull();
  });

  it("Later hides it until an update with another version is announced", async () => {
    renderUpdate(<UpdateBanner />);
    events.emit("update-available", updateInfo("0.2.0"));
    await userEvent.click(screen.getByTestId("update-later"));
    expect(banner()).toBeNull();
    // The daily check announces the same version again: still hidden.
    events.emit("update-available", updateInfo("0.2.0"));
    expect(banner()).toBeNull();
    events.emit("update-available", updateInfo("0.2.1"));
    expect(banner()).toHaveAttribute("data-version", "0.2.1");
    expect(ipc.installUpdate).not.toHaveBeenCalled();
  });

  it("an install error shows its message with Retry, which installs again", async () => {
    vi.mocked(ipc.installUpdate)
      .mockRejectedValueOnce({ kind: "update_invalid", message: "signature mismatch" })
      .mockResolvedValueOnce(null);
    renderUpdate(<UpdateBanner />);
    events.emit("update-available", updateInfo("0.2.0"));
    await userEvent.click(screen.getByTestId("update-install"));
    await waitFor(() => expect(banner()).toHaveAttribute("data-step", "failed"));
    expect(status()).toHaveTextContent(
      "Hongyan 0.2.0 could not be installed: The downloaded update is not valid (its signature does not match). Nothing was installed.",
    );
    expect(screen.getByRole("alert")).toBe(banner());
    expect(screen.getByTestId("update-detail")).toHaveTextContent("signature mismatch");
    expect(screen.queryByTestId("update-install")).toBeNull();
    await userEvent.click(screen.getByTestId("update-retry"));
    await waitFor(() => expect(status()).toHaveTextContent("Restarting…"));
    expect(ipc.installUpdate).toHaveBeenCalledTimes(2);
  });

  it("a newer version announced after a failure replaces the failure with a fresh offer", async () => {
    vi.mocked(ipc.installUpdate).mockRejectedValueOnce({ kind: "update_invalid", message: "bad key" });
    renderUpdate(<UpdateBanner />);
    events.emit("update-available", updateInfo("0.2.0-rc.1"));
    await userEvent.click(screen.getByTestId("update-install"));
    await waitFor(() => expect(banner()).toHaveAttribute("data-step", "failed"));
    events.emit("update-available", updateInfo("0.2.0"));
    await waitFor(() => expect(banner()).toHaveAttribute("data-version", "0.2.0"));
    expect(banner()).not.toHaveAttribute("data-step", "failed");
    expect(status()).toHaveTextContent("Hongyan 0.2.0 is available");
    expect(screen.getByTestId("update-install")).toBeEnabled();
    // The same version again keeps a failure on screen.
    vi.mocked(ipc.installUpdate).mockRejectedValueOnce({ kind: "update_invalid", message: "bad key" });
    await userEvent.click(screen.getByTestId("update-install"));
    await waitFor(() => expect(banner()).toHaveAttribute("data-step", "failed"));
    events.emit("update-available", updateInfo("0.2.0"));
    expect(banner()).toHaveAttribute("data-step", "failed");
  });

  it("an error the app has no sentence for shows the backend's message", async () => {
    vi.mocked(ipc.installUpdate).mockRejectedValue({ kind: "weird", message: "disk full while unpacking" });
    renderUpdate(<UpdateBanner />);
    events.emit("update-available", updateInfo("0.2.0"));
    await userEvent.click(screen.getByTestId("update-install"));
    expect(await screen.findByText(/disk full while unpacking/)).toBe(status());
    expect(screen.queryByTestId("update-detail")).toBeNull(); // said once
    // Later after a failure: hidden, and the next announcement of another version starts clean.
    await userEvent.click(screen.getByTestId("update-later"));
    expect(banner()).toBeNull();
    events.emit("update-available", updateInfo("0.2.1"));
    expect(banner()).toHaveAttribute("data-step", "idle");
  });

  it("no_update (the backend forgot the check): checks again, then installs", async () => {
    vi.mocked(ipc.installUpdate)
      .mockRejectedValueOnce({ kind: "no_update", message: "check first" })
      .mockResolvedValueOnce(null);
    renderUpdate(<UpdateBanner />);
    events.emit("update-available", updateInfo("0.2.0"));
    await waitFor(() => expect(ipc.checkUpdate).toHaveBeenCalledTimes(1));
    vi.mocked(ipc.checkUpdate).mockResolvedValue(updateInfo("0.2.0"));
    await userEvent.click(screen.getByTestId("update-install"));
    await waitFor(() => expect(status()).toHaveTextContent("Restarting…"));
    expect(ipc.checkUpdate).toHaveBeenCalledTimes(2);
    expect(ipc.installUpdate).toHaveBeenCalledTimes(2);
  });

  it("in 简体中文", async () => {
    vi.mocked(ipc.installUpdate).mockReturnValue(new Promise(() => {}));
    renderUpdate(<UpdateBanner />, "zh-CN");
    events.emit("update-available", updateInfo("0.2.0"));
    expect(status()).toHaveTextContent("鸿雁 0.2.0 已发布");
    expect(screen.getByTestId("update-install")).toHaveTextContent("立即更新");
    await userEvent.click(screen.getByTestId("update-install"));
    events.emit("update-progress", { downloaded: 512 * 1024, total: 2048 * 1024 });
    expect(screen.getByTestId("update-detail")).toHaveTextContent("512 KB / 2 MB");
    events.emit("update-installing", null);
    expect(status()).toHaveTextContent("正在安装…");
  });
});
