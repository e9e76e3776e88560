import { useI18n } from "../i18n";
import { formatBytes } from "../lib/media";
import { useUpdate } from "../lib/update";
import { AlertIcon, DownloadIcon } from "./icons";

/**
 * "Hongyan 0.2.0 is available" at the top of the window: Update now → download progress →
 * Installing… → Restarting…; an error shows its message with Retry (docs/UPDATES.md).
 */
export function UpdateBanner() {
  const { t, lang, errorText } = useI18n();
  const { available, bannerVisible, phase, install, later } = useUpdate();
  if (!available || !bannerVisible) return null;
  const version = available.version;

  let status: string;
  let detail: string | null = null;
  switch (phase.step) {
    case "idle":
      status = t("update.available", { version });
      detail = available.notes?.trim() || t("update.youHave", { version: available.current_version });
      break;
    case "downloading":
      status = t("update.downloading", { version });
      detail =
        phase.total !== null
          ? t("update.bytes", { done: formatBytes(phase.downloaded, lang), total: formatBytes(phase.total, lang) })
          : phase.downloaded > 0
            ? formatBytes(phase.downloaded, lang)
            : null;
      break;
    case "installing":
      status = t("update.installing");
      break;
    case "restarting":
      status = t("update.restarting");
      break;
    case "failed": {
      const sentence = errorText(phase.error);
      status = t("update.failed", { version, error: sentence });
      // The backend's own words say what exactly went wrong (the sentence is by kind).
      if (phase.error.message && phase.error.message !== sentence) detail = phase.error.message;
      break;
    }
  }
  const failed = phase.step === "failed";

  return (
    <div
      className={`update-banner update-${phase.step}`}
      role={failed ? "alert" : "status"}
      data-testid="update-banner"
      data-version={version}
      data-step={phase.step}
    >
      <span className="update-icon" aria-hidden="true">
        {failed ? <AlertIcon width={18} height={18} /> : <DownloadIcon width={18} height={18} />}
      </span>
      <div className="update-body">
        <span className="update-status" data-testid="update-status">
          {status}
        </span>
        {phase.step === "downloading" && (
          <progress
            className="update-progress"
            data-testid="update-progress"
            aria-label={status}
            // Indeterminate (no value) until the size is known.
            {...(phase.total !== null && phase.total > 0 ? { value: Math.min(phase.downloaded, phase.total), max: phase.total } : {})}
          />
        )}
        {/* Installing takes a while and says nothing of its progress. */}
        {phase.step === "installing" && <progress className="update-progress" aria-label={status} />}
        {phase.step === "restarting" && <span className="conn-dot" aria-hidden="true" />}
        {detail && (
          <span className="update-detail" title={detail} data-testid="update-detail">
            {detail}
          </span>
        )}
      </div>
      {(phase.step === "idle" || failed) && (
        <div className="update-actions">
          {failed ? (
            <button type="button" className="btn small primary" onClick={() => void install()} data-testid="update-retry">
              {t("update.retry")}
            </button>
          ) : (
            <button type="button" className="btn small primary" onClick={() => void install()} data-testid="update-install">
              {t("update.install")}
            </button>
          )}
          <button type="button" className="btn small" onClick={later} data-testid="update-later">
            {t("update.later")}
          </button>
        </div>
      )}
    </div>
  );
}
