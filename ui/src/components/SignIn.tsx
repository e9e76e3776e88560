import { useState, type FormEvent } from "react";
import { login, register, type Account, type IpcError, type Settings } from "../ipc";
import { useI18n, type StringKey } from "../i18n";
import { useUpdate } from "../lib/update";

interface Props {
  settings: Settings;
  /** A message shown above the form (kicked out, session expired, update required). */
  notice?: string | null;
  onServerChange: (serverUrl: string) => Promise<void>;
  onSignedIn: (a: Account) => void;
}

const USERNAME = /^[A-Za-z0-9_.-]{3,32}$/;

type Errors = Partial<Record<"server" | "username" | "password" | "confirm", StringKey>>;

export function validate(
  mode: "signin" | "register",
  v: { server: string; username: string; password: string; confirm: string },
): Errors {
  const e: Errors = {};
  if (!v.server.trim()) e.server = "valid.server";
  if (!USERNAME.test(v.username.trim())) e.username = "valid.username";
  if (mode === "register") {
    if ([...v.password].length < 8) e.password = "valid.password";
    if (v.password !== v.confirm) e.confirm = "valid.confirm";
  } else if (!v.password) {
    e.password = "valid.passwordEmpty";
  }
  return e;
}

export function SignIn({ settings, notice, onServerChange, onSignedIn }: Props) {
  const { t, errorText } = useI18n();
  const [mode, setMode] = useState<"signin" | "register">("signin");
  const [server, setServer] = useState(settings.server_url);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [nickname, setNickname] = useState("");
  const [remember, setRemember] = useState(true);
  const [errors, setErrors] = useState<Errors>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The server refused this version (client_too_old): "checking" while we ask for an update.
  const [tooOld, setTooOld] = useState<"checking" | "checked" | null>(null);
  const update = useUpdate();

  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    const errs = validate(mode, { server, username, password, confirm });
    setErrors(errs);
    setFailure(null);
    setInfo(null);
    setTooOld(null);
    if (Object.keys(errs).length > 0) return;
    setBusy(true);
    try {
      if (server.trim() !== settings.server_url) await onServerChange(server.trim());
      if (mode === "register") {
        const u = await register(username.trim(), password, nickname.trim() || undefined);
        setMode("signin");
        setConfirm("");
        setPassword("");
        setInfo(t("signin.registered", { name: u.username }));
      } else {
        const a = await login(username.trim(), password, remember);
        onSignedIn(a);
      }
    } catch (e) {
      const err = e as IpcError;
      if (err.kind === "client_too_old") {
        setTooOld("checking");
        // Offer the update right here when the server has one (a dev build cannot install it: none).
        if (!update.available) await update.check().catch(() => null);
        setTooOld("checked");
      } else {
        setFailure(errorText(err));
      }
    } finally {
      setBusy(false);
    }
  };

  const fieldError = (k: keyof Errors) =>
    errors[k] ? (
      <span className="field-error" role="alert" id={`err-${k}`}>
        {t(errors[k]!)}
      </span>
    ) : null;

  return (
    <div className="signin-screen">
      <form className="signin-card" onSubmit={submit} noValidate data-testid="signin-form">
        <div className="brand">
          <div className="brand-logo" aria-hidden="true">
            雁
          </div>
          <h1>{t("app.name")}</h1>
          <p className="muted">{t("app.tagline")}</p>
        </div>
        <h2 className="signin-title">{mode === "signin" ? t("signin.title") : t("signin.registerTitle")}</h2>
        {notice && (
          <div className="notice warn" role="alert" data-testid="signin-notice">
            {notice}
          </div>
        )}
        {info && (
          <div className="notice ok" role="status" data-testid="signin-info">
            {info}
          </div>
        )}
        <div className="field">
          <label className="field-label" htmlFor="f-server">
            {t("signin.server")}
          </label>
          <input
            id="f-server"
            data-testid="signin-server"
            aria-describedby={errors.server ? "err-server" : undefined}
            className="input"
            name="server"
            value={server}
            onChange={(e) => setServer(e.target.value)}
            aria-invalid={!!errors.server}
            autoComplete="url"
          />
          {fieldError("server")}
        </div>
        <div className="field">
          <label className="field-label" htmlFor="f-username">
            {t("signin.username")}
          </label>
          <input
            id="f-username"
            data-testid="signin-username"
            aria-describedby={errors.username ? "err-username" : undefined}
            className="input"
            name="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            aria-invalid={!!errors.username}
            autoComplete="username"
            autoFocus
          />
          {fieldError("username")}
        </div>
        {mode === "register" && (
          <div className="field">
          <label className="field-label" htmlFor="f-nickname">
            {t("signin.nickname")}
          </label>
          <input id="f-nickname"
            data-testid="signin-nickname" className="input" name="nickname" value={nickname} onChange={(e) => setNickname(e.target.value)} maxLength={64} />
          
        </div>
        )}
        <div className="field">
          <label className="field-label" htmlFor="f-password">
            {t("signin.password")}
          </label>
          <input
            id="f-password"
            data-testid="signin-password"
            aria-describedby={errors.password ? "err-password" : undefined}
            className="input"
            name="password"
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-invalid={!!errors.password}
            autoComplete={mode === "register" ? "new-password" : "current-password"}
          />
          {fieldError("password")}
        </div>
        {mode === "register" && (
          <div className="field">
          <label className="field-label" htmlFor="f-confirm">
            {t("signin.confirm")}
          </label>
          <input
            id="f-confirm"
            data-testid="signin-confirm"
            aria-describedby={errors.confirm ? "err-confirm" : undefined}
              className="input"
              name="confirm"
              type="password"
              value={confirm}
              onChange={(e) => setConfirm(e.target.value)}
              aria-invalid={!!errors.confirm}
              autoComplete="new-password"
            />
          {fieldError("confirm")}
        </div>
        )}
        {mode === "signin" && (
          <label className="check-row">
            <input type="checkbox" data-testid="signin-remember" checked={remember} onChange={(e) => setRemember(e.target.checked)} />
            <span>{t("signin.remember")}</span>
          </label>
        )}
        {failure && (
          <div className="form-error" role="alert" data-testid="signin-error">
            {failure}
          </div>
        )}
        {tooOld && (
          <div className="form-error" role="alert" data-testid="signin-error" data-kind="client_too_old">
            <p>{t("signin.tooOld")}</p>
            {update.available ? (
              <div className="signin-update-row">
                <button
                  type="button"
                  className="btn small primary"
                  onClick={() => void update.install()}
                  disabled={update.busy}
                  data-testid="signin-update"
                >
                  {update.busy ? t("signin.updating") : t("signin.updateTo", { version: update.available.version })}
                </button>
              </div>
            ) : (
              <p>{tooOld === "checking" ? t("signin.lookingForUpdate") : t("signin.noUpdate")}</p>
            )}
          </div>
        )}
        <button type="submit" className="btn primary wide" disabled={busy} data-testid="signin-submit">
          {busy ? t("signin.busy") : mode === "signin" ? t("signin.submit") : t("signin.submitRegister")}
        </button>
        <button
          type="button"
          className="link"
          data-testid="signin-mode-toggle"
          onClick={() => {
            setMode(mode === "signin" ? "register" : "signin");
            setErrors({});
            setFailure(null);
            setInfo(null);
            setTooOld(null);
          }}
        >
          {mode === "signin" ? t("signin.toRegister") : t("signin.toSignin")}
        </button>
      </form>
    </div>
  );
}
