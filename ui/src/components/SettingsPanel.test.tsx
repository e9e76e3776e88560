import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../ipc";
import type { AppInfo, Settings } from "../ipc/types";
import { deferred, mockEvents, renderUpdate, updateInfo } from "../test/render";
import { SettingsPanel } from "./SettingsPanel";
import { UpdateBanner } from "./UpdateBanner";

vi.mock("../ipc");

const settings: Settings = { server_url: "http://localhost:8080", notifications: true, theme: "system", language: "en" };
const info = (updates: AppInfo["updates"]): AppInfo => ({ app_version: "0.1.0", core_level: 261201, platform: "linux", updates });

let events: ReturnType<typeof mockEvents>;
beforeEach(() => {
  vi.resetAllMocks();
  events = mockEvents();
  vi.mocked(ipc.checkUpdate).mockResolvedValue(null);
});

/** Settings open over the window, the update banner on top as in the app. */
async function setup(updates: AppInfo["updates"] = "supported", lang: "en" | "zh-CN" = "en") {
  const onClose = vi.fn();
  renderUpdate(
    <>
      <UpdateBanner />
      <SettingsPanel settings={settings} account={null} info={info(updates)} onChange={vi.fn()} onLogout={vi.fn()} onClose={onClose} />
    </>,
    lang,
  );
  await waitFor(() => expect(ipc.checkUpdate).toHaveBeenCalledTimes(1)); // the start check
  return { onClose };
}

const result = () => screen.getByTestId("check-updates-result");

describe("Settings → About: Check for updates", () => {
  it("shows version and core level", async () => {
    await setup();
    expect(screen.getByTestId("app-version")).toHaveTextContent("0.1.0");
    expect(screen.getByTestId("core-level")).toHaveTextContent("261201");
    expect(screen.queryByTestId("check-updates-result")).toBeNull();
  });

  it("up to date", async () => {
    await setup();
    const answer = deferred<null>();
    vi.mocked(ipc.checkUpdate).mockReturnValue(answer.promise);
    await userEvent.click(screen.getByTestId("check-updates"));
    expect(result()).toHaveTextContent("Checking…");
    expect(screen.getByTestId("check-updates")).toBeDisabled();
    answer.resolve(null);
    await waitFor(() => expect(result()).toHaveTextContent("You're up to date"));
    expect(result()).toHaveAttribute("data-state", "up-to-date");
    expect(screen.getByTestId("check-updates")).toBeEnabled();
    expect(screen.queryByTestId("update-banner")).toBeNull();
  });

  it("an update: the result names it, the banner shows it (even after Later), Update now installs and closes", async () => {
    const { onClose } = await setup();
    events.emit("update-available", updateInfo("0.2.0"));
    await userEvent.click(screen.getByTestId("update-later"));
    expect(screen.queryByTestId("update-banner")).toBeNull();
    vi.mocked(ipc.checkUpdate).mockResolvedValue(updateInfo("0.2.0"));
    vi.mocked(ipc.installUpdate).mockReturnValue(new Promise(() => {}));
    await userEvent.click(screen.getByTestId("check-updates"));
    await waitFor(() => expect(result()).toHaveTextContent("Hongyan 0.2.0 is available."));
    expect(result()).toHaveAttribute("data-state", "available");
    expect(screen.getByTestId("update-banner")).toHaveAttribute("data-version", "0.2.0");
    await userEvent.click(screen.getByTestId("check-updates-install"));
    expect(ipc.installUpdate).toHaveBeenCalledTimes(1);
    expect(onClose).toHaveBeenCalled();
    expect(screen.getByTestId("update-banner")).toHaveAttribute("data-step", "downloading");
  });

  it("an error shows its message", async () => {
    await setup();
    vi.mocked(ipc.checkUpdate).mockRejectedValue({ kind: "network", message: "connection refused" });
    await userEvent.click(screen.getByTestId("check-updates"));
    await waitFor(() => expect(result()).toHaveAttribute("data-state", "error"));
    expect(result()).toHaveTextContent("Cannot reach the server. Check the address and your connection.");
    expect(result()).toHaveAttribute("role", "alert");
    vi.mocked(ipc.checkUpdate).mockRejectedValue({ kind: "server", message: "500" });
    await userEvent.click(screen.getByTestId("check-updates"));
    await waitFor(() => expect(result()).toHaveTextContent("The server had a problem. Try again later."));
  });

  it("a server that withdrew the update: up to date, and the banner goes", async () => {
    await setup();
    events.emit("update-available", updateInfo("0.2.0"));
    expect(screen.getByTestId("update-banner")).toBeInTheDocument();
    await userEvent.click(screen.getByTestId("check-updates"));
    await waitFor(() => expect(result()).toHaveTextContent("You're up to date"));
    expect(screen.queryByTestId("update-banner")).toBeNull();
  });

  it("a build that cannot update itself: the button is disabled, with a note", async () => {
    await setup("unsupported");
    expect(screen.getByTestId("check-updates")).toBeDisabled();
    expect(result()).toHaveAttribute("data-state", "unsupported");
    expect(result()).toHaveTextContent(/cannot update itself/);
    await userEvent.click(screen.getByTestId("check-updates"));
    expect(ipc.checkUpdate).toHaveBeenCalledTimes(1); // only the start check
  });

  it("in 简体中文", async () => {
    await setup("supported", "zh-CN");
    expect(screen.getByTestId("check-updates")).toHaveTextContent("检查更新");
    await userEvent.click(screen.getByTestId("check-updates"));
    await waitFor(() => expect(result()).toHaveTextContent("已是最新版本"));
  });
});
