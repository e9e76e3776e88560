import { useCallback, useEffect, useRef, useState } from "react";
import {
  appInfo,
  getSettings,
  logout,
  on,
  resumeSession,
  setSettings,
  type Account,
  type AppInfo,
  type Settings,
} from "./ipc";
import { I18nProvider, translate } from "./i18n";
import { UpdateProvider } from "./lib/update";
import { clearUserCache } from "./lib/users";
import { MainWindow } from "./components/MainWindow";
import { SignIn } from "./components/SignIn";
import { UpdateBanner } from "./components/UpdateBanner";

const DEFAULT_SETTINGS: Settings = {
  server_url: "http://localhost:8080",
  notifications: true,
  theme: "system",
  language: navigator.language?.toLowerCase().startsWith("zh") ? "zh-CN" : "en",
};

function applyTheme(theme: Settings["theme"]) {
  const root = document.documentElement;
  if (theme === "system") root.removeAttribute("data-theme");
  else root.setAttribute("data-theme", theme);
}

export function App() {
  const [settings, setLocalSettings] = useState<Settings | null>(null);
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [account, setAccount] = useState<Account | null>(null);
  const [booted, setBooted] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    appInfo()
      .then((i) => live && setInfo(i))
      .catch(() => {});
    getSettings()
      .catch(() => DEFAULT_SETTINGS)
      .then((s) => {
        if (!live) return;
        setLocalSettings(s);
        return resumeSession()
          .then((a) => live && setAccount(a))
          .catch(() => {});
      })
      .finally(() => live && setBooted(true));
    return () => {
      live = false;
    };
  }, []);

  const lang = settings?.language ?? DEFAULT_SETTINGS.language;

  useEffect(() => {
    applyTheme(settings?.theme ?? "system");
    document.documentElement.lang = lang;
  }, [settings?.theme, lang]);

  const signOut = useCallback((message: string | null) => {
    clearUserCache();
    setAccount(null);
    setNotice(message);
  }, []);

  // The current language for event handlers, so they are registered once: re-registering on
  // every language change left a window in which an event (e.g. login-rejected) was lost.
  const langRef = useRef(lang);
  useEffect(() => {
    langRef.current = lang;
  }, [lang]);

  // Session-ending events return to the sign-in screen with a clear message.
  useEffect(() => {
    const offs = [
      on("kicked-out", ({ code }) =>
        signOut(translate(langRef.current, code === 2 ? "notice.kickedAdmin" : "notice.kicked")),
      ),
      on("auth-expired", () => signOut(translate(langRef.current, "notice.authExpired"))),
      on("login-rejected", ({ code, message }) =>
        signOut(
          code === 1027
            ? translate(langRef.current, "notice.updateRequired")
            : translate(langRef.current, "notice.loginRejected", { message }),
        ),
      ),
    ];
    return () => offs.forEach((f) => f());
  }, [signOut]);

  const changeSettings = useCallback(async (s: Settings) => {
    setLocalSettings(s); // apply at once; the backend answer is the truth
    try {
      setLocalSettings(await setSettings(s));
    } catch {
      /* keep the local choice for this run */
    }
  }, []);

  if (!booted || !settings) {
    return (
      <I18nProvider lang={lang}>
        <div className="boot" aria-busy="true" />
      </I18nProvider>
    );
  }

  return (
    <I18nProvider lang={lang}>
      <UpdateProvider>
        <div className="app-frame">
          <UpdateBanner />
          {account ? (
            <MainWindow
              account={account}
              settings={settings}
              info={info}
              onSettingsChange={changeSettings}
              onLogout={() => {
                logout()
                  .catch(() => {})
                  .finally(() => signOut(null));
              }}
            />
          ) : (
            <SignIn
              settings={settings}
              notice={notice}
              onServerChange={(server_url) => changeSettings({ ...settings, server_url })}
              onSignedIn={(a) => {
                setNotice(null);
                setAccount(a);
              }}
            />
          )}
        </div>
      </UpdateProvider>
    </I18nProvider>
  );
}
