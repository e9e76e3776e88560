//! App updates from the configured server (docs/UPDATES.md): the check at start and every
//! 24 h, `check_update` / `install_update`, progress events, and the restart into the new
//! version. The Tauri updater plugin does the HTTP, the minisign verification (with the
//! public key built in by `npm run dist`) and the package install.

use std::time::{Duration, Instant};

use serde::Serialize;
use tauri::{AppHandle, Manager, State};
use tauri_plugin_updater::{Update, UpdaterExt};

use crate::commands::emit;
use crate::error::{IpcError, IpcResult};
use crate::events;
use crate::state::{lock, AppState};

/// How often a running app asks for a new version.
pub const CHECK_EVERY: Duration = Duration::from_secs(24 * 60 * 60);
/// The wait between "installed" and the restart, so the UI can say "Restarting…".
const RESTART_AFTER: Duration = Duration::from_millis(500);
/// At most one `update-progress` event per this interval (the last chunk always gets one).
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// What the UI is told about an update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateInfo {
    pub version: String,
    pub current_version: String,
    pub notes: Option<String>,
    /// RFC 3339.
    pub date: Option<String>,
}

impl From<&Update> for UpdateInfo {
    fn from(u: &Update) -> Self {
        Self {
            version: u.version.clone(),
            current_version: u.current_version.clone(),
            notes: u.body.clone().filter(|n| !n.trim().is_empty()),
            // As the server wrote it (RFC 3339).
            date: u
                .raw_json
                .get("pub_date")
                .and_then(|d| d.as_str())
                .map(str::to_owned),
        }
    }
}

/// The update found by the last check, kept for `install_update`.
#[derive(Default)]
pub struct PendingUpdate(std::sync::Mutex<Option<Update>>);

/// Whether this binary can replace itself: only one installed from a package (the bundler
/// marks the binary inside a .deb, .rpm or AppImage).
pub fn supported() -> bool {
    tauri::utils::platform::bundle_type().is_some()
}

/// The endpoint on `server_url`; the plugin fills in the `{{…}}` variables.
pub fn endpoint(server_url: &str) -> IpcResult<tauri::Url> {
    let base = server_url.trim_end_matches('/');
    format!("{base}/api/v1/updates/{{{{target}}}}-{{{{arch}}}}-{{{{bundle_type}}}}/{{{{current_version}}}}")
        .parse()
        .map_err(|e| IpcError::invalid_request(format!("The server address is not a URL ({e}).")))
}

fn unsupported() -> IpcError {
    IpcError::new(
        "unsupported",
        "This copy of Hongyan was not installed from a package, so it cannot update itself.",
    )
}

/// Maps the plugin's errors to the kinds of docs/UPDATES.md.
fn ipc_error(e: tauri_plugin_updater::Error) -> IpcError {
    use tauri_plugin_updater::Error as E;
    match e {
        E::Reqwest(e) if e.is_timeout() => {
            IpcError::new("timeout", "The update server did not answer in time.")
        }
        E::Reqwest(e) => IpcError::new(
            "network",
            format!("The update server could not be reached ({e})."),
        ),
        E::Network(m) => IpcError::new("network", format!("The update could not be fetched ({m}).")),
        E::Minisign(_)
        | E::Base64(_)
        | E::SignatureUtf8(_)
        | E::SignedVersionMismatch { .. }
        | E::MissingSignedVersion
        | E::InvalidUpdaterFormat => IpcError::new(
            "update_invalid",
            format!("The downloaded update is not a genuine Hongyan package ({e}); nothing was installed."),
        ),
        E::AuthenticationFailed | E::PackageInstallFailed | E::DebInstallFailed => IpcError::new(
            "update_failed",
            "The update could not be installed: installing a package needs administrator rights.",
        ),
        E::UnsupportedOs | E::UnsupportedArch | E::TargetNotFound(_) | E::TargetsNotFound(_) => {
            unsupported()
        }
        other => IpcError::new("update_failed", format!("The update failed: {other}.")),
    }
}

/// Asks the server now; remembers what it found for `install_update`.
pub async fn check(app: &AppHandle) -> IpcResult<Option<UpdateInfo>> {
    if !supported() {
        return Err(unsupported());
    }
    let server_url = lock(&app.state::<AppState>().settings).server_url.clone();
    let updater = app
        .updater_builder()
        .endpoints(vec![endpoint(&server_url)?])
        .map_err(ipc_error)?
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(ipc_error)?;
    let found = updater.check().await.map_err(ipc_error)?;
    let info = found.as_ref().map(UpdateInfo::from);
    *lock(&app.state::<PendingUpdate>().0) = found;
    Ok(info)
}

/// Checks and emits `update-available` when there is one; a failure is only logged.
pub async fn check_and_announce(app: &AppHandle) {
    match check(app).await {
        Ok(Some(info)) => {
            tracing::info!(version = %info.version, "update available");
            emit(app, events::UPDATE_AVAILABLE, json(&info));
        }
        Ok(None) => tracing::debug!("no update"),
        Err(e) if e.kind == "unsupported" => tracing::debug!("updates unsupported: {e}"),
        Err(e) => tracing::warn!(error = %e, "update check failed"),
    }
}

/// A login refused with 1027 (client too old): look for the update that fixes it, so the
/// UI can offer it right there (docs/UPDATES.md).
pub fn offer_if_too_old(app: &AppHandle, e: &hongyan_sdk::Error) {
    if matches!(e, hongyan_sdk::Error::ClientTooOld(_)) {
        let app = app.clone();
        tauri::async_runtime::spawn(async move { check_and_announce(&app).await });
    }
}

/// The check at start and then every [`CHECK_EVERY`] while the app runs.
pub fn spawn_periodic_checks(app: AppHandle) {
    if !supported() {
        tracing::info!("not installed from a package: no update checks");
        return;
    }
    tauri::async_runtime::spawn(every(CHECK_EVERY, move || {
        let app = app.clone();
        async move { check_and_announce(&app).await }
    }));
}

/// Runs `task` now and then every `period`, one run at a time, forever. (The monotonic
/// clock stops while the machine sleeps: a day means a day awake.)
async fn every<F, Fut>(period: Duration, mut task: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        task().await;
    }
}

fn json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// Counts downloaded bytes and says how far it got at most every [`PROGRESS_EVERY`].
struct Progress {
    downloaded: u64,
    last: Option<Instant>,
}

impl Progress {
    /// The `update-progress` payload when one is due.
    fn chunk(&mut self, len: usize, total: Option<u64>) -> Option<serde_json::Value> {
        self.downloaded += len as u64;
        let done = total.is_some_and(|t| self.downloaded >= t);
        let due = self.last.is_none_or(|t| t.elapsed() >= PROGRESS_EVERY);
        if !(done || due) {
            return None;
        }
        self.last = Some(Instant::now());
        Some(serde_json::json!({ "downloaded": self.downloaded, "total": total }))
    }
}

#[tauri::command]
pub async fn check_update(app: AppHandle) -> IpcResult<Option<UpdateInfo>> {
    check(&app).await
}

/// Downloads (with `update-progress`), verifies, installs (`update-installing`), answers,
/// then restarts into the new version.
#[tauri::command]
pub async fn install_update(app: AppHandle, pending: State<'_, PendingUpdate>) -> IpcResult<()> {
    if !supported() {
        return Err(unsupported());
    }
    let update = lock(&pending.0).clone().ok_or_else(|| {
        IpcError::new(
            "no_update",
            "There is no update to install; check for updates first.",
        )
    })?;
    tracing::info!(version = %update.version, "downloading update");
    let mut progress = Progress {
        downloaded: 0,
        last: None,
    };
    let bytes = update
        .download(
            |len, total| {
                if let Some(p) = progress.chunk(len, total) {
                    emit(&app, events::UPDATE_PROGRESS, p);
                }
            },
            || {},
        )
        .await
        .map_err(ipc_error)?;
    emit(&app, events::UPDATE_INSTALLING, serde_json::Value::Null);
    tracing::info!(version = %update.version, "installing update");
    tauri::async_runtime::spawn_blocking(move || update.install(bytes))
        .await
        .map_err(|e| IpcError::internal(format!("The installer stopped: {e}.")))?
        .map_err(ipc_error)?;
    tracing::info!("update installed; restarting");
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(RESTART_AFTER).await;
        if let Ok(client) = handle.state::<AppState>().client() {
            let _ = tokio::time::timeout(Duration::from_secs(3), client.shutdown()).await;
        }
        handle.restart();
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_keeps_the_plugin_variables_and_drops_a_trailing_slash() {
        let url = endpoint("http://127.0.0.1:3000/").unwrap();
        let s = url.as_str();
        assert!(
            s.starts_with("http://127.0.0.1:3000/api/v1/updates/"),
            "{s}"
        );
        // The plugin replaces both the raw and the percent-encoded forms.
        assert!(
            s.contains("target") && s.contains("bundle_type") && s.contains("current_version"),
            "{s}"
        );
        assert!(!s.contains("3000//"), "{s}");
        assert_eq!(endpoint("not a url").unwrap_err().kind, "invalid_request");
    }

    #[test]
    fn progress_is_throttled_but_the_last_chunk_always_reported() {
        let mut p = Progress {
            downloaded: 0,
            last: None,
        };
        let first = p.chunk(10, Some(30)).expect("the first chunk is reported");
        assert_eq!(first["downloaded"], 10);
        assert!(
            p.chunk(10, Some(30)).is_none(),
            "a chunk right after is not"
        );
        let last = p.chunk(10, Some(30)).expect("the last chunk is reported");
        assert_eq!(last["downloaded"], 30);
        assert_eq!(last["total"], 30);
        let mut unknown = Progress {
            downloaded: 0,
            last: None,
        };
        assert!(unknown.chunk(5, None).unwrap()["total"].is_null());
    }

    #[tokio::test(start_paused = true)]
    async fn checks_run_at_start_and_then_daily() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        tokio::spawn(every(CHECK_EVERY, move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async {}
        }));
        let settle = || tokio::time::sleep(Duration::from_millis(1));
        settle().await;
        assert_eq!(runs.load(Ordering::SeqCst), 1, "a check at start");
        tokio::time::advance(CHECK_EVERY - Duration::from_secs(60)).await;
        settle().await;
        assert_eq!(
            runs.load(Ordering::SeqCst),
            1,
            "no second check within the day"
        );
        tokio::time::advance(Duration::from_secs(60)).await;
        settle().await;
        assert_eq!(runs.load(Ordering::SeqCst), 2, "the next one a day later");
        tokio::time::advance(CHECK_EVERY).await;
        settle().await;
        assert_eq!(runs.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn a_test_binary_is_not_a_package() {
        assert!(!supported());
        assert_eq!(unsupported().kind, "unsupported");
    }

    #[test]
    fn signature_and_install_errors_have_their_kinds() {
        use tauri_plugin_updater::Error as E;
        assert_eq!(ipc_error(E::MissingSignedVersion).kind, "update_invalid");
        assert_eq!(ipc_error(E::InvalidUpdaterFormat).kind, "update_invalid");
        assert_eq!(ipc_error(E::PackageInstallFailed).kind, "update_failed");
        assert_eq!(ipc_error(E::Network("reset".into())).kind, "network");
        assert_eq!(ipc_error(E::UnsupportedOs).kind, "unsupported");
    }
}
