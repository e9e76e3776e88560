import { useState } from "react";
import type { Account, AppInfo, IpcError, Language, Settings, Theme } from "../ipc";
import { useI18n } from "../i18n";
import { useUpdate } from "../lib/update";
import { Modal } from "./Modal";

interface Props {
  settings: Settings;
  account: Account | null;
  info: AppInfo | null;
  onChange: (s: Settings) => Promise<void>;
  onLogout: () => void;
  onClose: () => void;
}

export function SettingsPanel({ settings, account, info, onChange, onLogout, onClose }: Props) {
  const { t } = useI18n();
  const [server, setServer] = useState(settings.server_url);
  const [saved, setSaved] = useState(false);

  const saveServer = async () => {
    if (server.trim() === settings.server_url) return;
    await onChange({ ...settings, server_url: server.trim() });
    setSaved(true);
  };

  return (
    <Modal title={t("settings.title")} onClose={onClose} testId="settings">
      {account && (
        <section className="settings-section">
          <h3>{t("settings.account")}</h3>
          <div className="settings-row">
            <span>{t("settings.signedInAs", { name: `${account.username} (${account.user_id})` })}</span>
            <button type="button" className="btn danger" onClick={onLogout} data-testid="logout-button">
              {t("settings.logout")}
            </button>
          </div>
        </section>
      )}
      <section className="settings-section">
        <label className="field">
          <span className="field-label">{t("settings.server")}</span>
          <div className="inline">
            <input
              className="input"
              value={server}
              onChange={(e) => {
                setServer(e.target.value);
                setSaved(false);
              }}
              onKeyDown={(e) => e.key === "Enter" && void saveServer()}
            />
            <button type="button" className="btn" onClick={() => void saveServer()} disabled={server.trim() === settings.server_url}>
              {saved ? t("settings.saved") : t("settings.save")}
            </button>
          </div>
          <span className="field-hint">{t("settings.serverHint")}</span>
        </label>
      </section>
      <section className="settings-section">
        <label className="settings-row check">
          <span>{t("settings.notifications")}</span>
          <input
            type="checkbox"
            className="switch"
            checked={settings.notifications}
            onChange={(e) => void onChange({ ...settings, notifications: e.target.checked })}
          />
        </label>
        <label className="settings-row">
          <span>{t("settings.theme")}</span>
          <select
            className="select"
            aria-label={t("settings.theme")}
            value={settings.theme}
            onChange={(e) => void onChange({ ...settings, theme: e.target.value as Theme })}
          >
            <option value="system">{t("settings.theme.system")}</option>
            <option value="light">{t("settings.theme.light")}</option>
            <option value="dark">{t("settings.theme.dark")}</option>
          </select>
        </label>
        <label className="settings-row">
          <span>{t("settings.language")}</span>
          <select
            className="select"
            aria-label={t("settings.language")}
            value={settings.language}
            onChange={(e) => void onChange({ ...settings, language: e.target.value as Language })}
          >
            <option value="en">English</option>
            <option value="zh-CN">简体中文</option>
          </select>
        </label>
      </section>
      <section className="settings-section about" data-testid="about">
        <h3>{t("about.title")}</h3>
        <dl>
          <dt>{t("about.version")}</dt>
          <dd data-testid="app-version">{info?.app_version ?? "—"}</dd>
          <dt>{t("about.coreLevel")}</dt>
          <dd data-testid="core-level">{info?.core_level ?? "—"}</dd>
          <dt>{t("about.platform")}</dt>
          <dd>{info?.platform ?? "—"}</dd>
        </dl>
        <UpdateCheck info={info} onInstall={onClose} />
      </section>
    </Modal>
  );
}

type CheckResult =
  | { state: "checking" }
  | { state: "up-to-date" }
  | { state: "available"; version: string }
  | { state: "error"; message: string };

/** About's [Check for updates] and its result; an update found shows the banner too. */
function UpdateCheck({ info, onInstall }: { info: AppInfo | null; onInstall: () => void }) {
  const { t, errorText } = useI18n();
  const update = useUpdate();
  const [result, setResult] = useState<CheckResult | null>(null);
  const unsupported = info?.updates === "unsupported";

  const check = async () => {
    setResult({ state: "checking" });
    try {
      const u = await update.check();
      setResult(u ? { state: "available", version: u.version } : { state: "up-to-date" });
    } catch (e) {
      setResult({ state: "error", message: errorText(e as IpcError) });
    }
  };

  let text: string | null = null;
  if (unsupported) text = t("about.updatesUnsupported");
  else if (result?.state === "checking") text = t("about.checking");
  else if (result?.state === "up-to-date") text = t("about.upToDate");
  else if (result?.state === "available") text = t("about.updateFound", { version: result.version });
  else if (result?.state === "error") text = result.message;
  const state = unsupported ? "unsupported" : result?.state;

  return (
    <div className="about-updates">
      <button
        type="button"
        className="btn small"
        onClick={() => void check()}
        disabled={unsupported || result?.state === "checking" || update.busy}
        data-testid="check-updates"
      >
        {t("about.checkUpdates")}
      </button>
      {text && (
        <span
          className="about-updates-result"
          role={state === "error" ? "alert" : "status"}
          data-testid="check-updates-result"
          data-state={state}
        >
          {text}
        </span>
      )}
      {result?.state === "available" && !update.busy && (
        <button
          type="button"
          className="btn small primary"
          onClick={() => {
            void update.install();
            onInstall(); // the banner on top shows how it goes
          }}
          data-testid="check-updates-install"
        >
          {t("about.updateNow")}
        </button>
      )}
    </div>
  );
}
