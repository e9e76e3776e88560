// App updates (docs/UPDATES.md, issue 9): what the server offers and where an install stands,
// in one place for the banner, the sign-in form and Settings → About (none runs the flow itself).
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { checkUpdate, installUpdate, on, type IpcError, type UpdateInfo } from "../ipc";

export type UpdatePhase =
  | { step: "idle" }
  | { step: "downloading"; downloaded: number; total: number | null }
  | { step: "installing" }
  /** Installed; the app restarts itself in a moment. */
  | { step: "restarting" }
  | { step: "failed"; error: IpcError };

export interface Updates {
  /** The newest update known (from `update-available` or a check); null when none. */
  available: UpdateInfo | null;
  /** Whether the banner shows: an update known and not put off with Later, or an install under way. */
  bannerVisible: boolean;
  phase: UpdatePhase;
  /** Whether an install runs now (downloading, installing or restarting). */
  busy: boolean;
  /** Asks the server now; the update found (the banner shows it, even after Later) or null. Rejects with the IpcError. */
  check: () => Promise<UpdateInfo | null>;
  /** Downloads and installs the known update; progress and errors go into `phase`. */
  install: () => Promise<void>;
  /** Hides the banner until an update with another version is announced. */
  later: () => void;
}

const Ctx = createContext<Updates | null>(null);

export function UpdateProvider({ children }: { children: ReactNode }) {
  const [available, setAvailable] = useState<UpdateInfo | null>(null);
  const [dismissed, setDismissed] = useState<string | null>(null);
  const [phase, setPhase] = useState<UpdatePhase>({ step: "idle" });
  const installing = useRef(false);
  /** The version the banner names; a new one replaces a failure with a fresh offer. */
  const named = useRef<string | null>(null);
  const announce = useCallback((u: UpdateInfo | null) => {
    if (u?.version !== named.current) {
      named.current = u?.version ?? null;
      setPhase((p) => (p.step === "failed" ? { step: "idle" } : p));
    }
    setAvailable(u);
  }, []);

  useEffect(() => {
    let live = true;
    const offs = [
      // While an install runs, the banner keeps naming the version being installed.
      on("update-available", (u) => !installing.current && announce(u)),
      // Only while our install downloads: a late event must not undo "installing" or a failure.
      on("update-progress", ({ downloaded, total }) =>
        setPhase((p) => (p.step === "downloading" ? { step: "downloading", downloaded, total } : p)),
      ),
      on("update-installing", () => setPhase((p) => (p.step === "downloading" ? { step: "installing" } : p))),
    ];
    // The backend checks at start too, but its event may come before this page listens: ask
    // once more. Nothing is shown when this fails (a dev build says `unsupported`).
    checkUpdate()
      .then((u) => live && u && !installing.current && announce(u))
      .catch(() => {});
    return () => {
      live = false;
      offs.forEach((off) => off());
    };
  }, [announce]);

  const check = useCallback(async () => {
    const u = await checkUpdate();
    if (u) {
      announce(u);
      setDismissed(null); // asked for: show it again after Later
    } else if (!installing.current) {
      announce(null); // the server withdrew it: the banner must not offer it any more
    }
    return u;
  }, [announce]);

  const install = useCallback(async () => {
    if (installing.current) return;
    installing.current = true;
    setPhase({ step: "downloading", downloaded: 0, total: null });
    try {
      try {
        await installUpdate();
      } catch (e) {
        // The backend no longer holds the update it announced (e.g. it was restarted): check, then install.
        if ((e as IpcError).kind !== "no_update") throw e;
        const u = await checkUpdate();
        if (!u) throw e;
        named.current = u.version;
        setAvailable(u);
        await installUpdate();
      }
      setPhase({ step: "restarting" });
    } catch (e) {
      setPhase({ step: "failed", error: e as IpcError });
      installing.current = false;
    }
  }, []);

  const later = useCallback(() => {
    setDismissed(available?.version ?? null);
    setPhase((p) => (p.step === "failed" ? { step: "idle" } : p));
  }, [available]);

  const busy = phase.step === "downloading" || phase.step === "installing" || phase.step === "restarting";
  const bannerVisible = available !== null && (phase.step !== "idle" || dismissed !== available.version);
  const value = useMemo(
    () => ({ available, bannerVisible, phase, busy, check, install, later }),
    [available, bannerVisible, phase, busy, check, install, later],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useUpdate(): Updates {
  const v = useContext(Ctx);
  if (!v) throw new Error("useUpdate outside UpdateProvider");
  return v;
}
