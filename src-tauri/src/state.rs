//! What the app holds: settings, the SDK client (rebuilt when the server changes), caches.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use hongyan_sdk::secrets::{self, SecretBackend, SecretKey, SecretStore};
use hongyan_sdk::{Client, ClientConfig, User};
use tauri::async_runtime::JoinHandle;

use crate::error::{IpcError, IpcResult};
use crate::events::Unread;
use crate::settings::Settings;

/// Env var that overrides the data dir (stores, tokens, `accounts.json`).
pub const DATA_DIR_ENV: &str = "HONGYAN_DATA_DIR";

/// `HONGYAN_DATA_DIR`, else the SDK's default (`$XDG_DATA_HOME/hongyan`), else `fallback`.
pub fn data_dir(env: Option<String>, fallback: &Path) -> PathBuf {
    env.filter(|d| !d.trim().is_empty())
        .map(PathBuf::from)
        .or_else(hongyan_sdk::config::default_data_dir)
        .unwrap_or_else(|| fallback.to_path_buf())
}

/// Locks a mutex, ignoring poisoning (the data stays usable).
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct Slot {
    client: Option<Client>,
    /// Why there is no client (a bad server address).
    error: Option<IpcError>,
    forwarder: Option<JoinHandle<()>>,
}

/// Managed Tauri state.
pub struct AppState {
    pub started: Instant,
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub settings: Mutex<Settings>,
    slot: Mutex<Slot>,
    /// "Remember me" of the current login.
    pub remember: AtomicBool,
    pub users: Mutex<HashMap<String, User>>,
    pub unread: Mutex<Unread>,
    /// The conversation of the latest message that arrived while the window was unfocused.
    pub pending_open: Mutex<Option<String>>,
    pub ready_logged: AtomicBool,
}

impl AppState {
    pub fn new(
        started: Instant,
        config_dir: PathBuf,
        data_dir: PathBuf,
        settings: Settings,
    ) -> Self {
        Self {
            started,
            config_dir,
            data_dir,
            settings: Mutex::new(settings),
            slot: Mutex::new(Slot {
                client: None,
                error: None,
                forwarder: None,
            }),
            remember: AtomicBool::new(true),
            users: Mutex::default(),
            unread: Mutex::default(),
            pending_open: Mutex::default(),
            ready_logged: AtomicBool::new(false),
        }
    }

    /// The client config for `server_url`.
    pub fn client_config(&self, server_url: &str) -> ClientConfig {
        let mut config = ClientConfig::new(server_url, &self.data_dir);
        config.app_version = env!("CARGO_PKG_VERSION").to_owned();
        config.device = format!(
            "Hongyan desktop ({} {})",
            std::env::consts::OS,
            std::env::consts::ARCH
        );
        config
    }

    /// Builds a client for `server_url` and installs it; returns it (or why not) and the
    /// previous client, which the caller shuts down. `forward` starts the event forwarder.
    pub fn install_client(
        &self,
        server_url: &str,
        forward: impl FnOnce(&Client) -> JoinHandle<()>,
    ) -> (IpcResult<Client>, Option<Client>) {
        let built = Client::new(self.client_config(server_url)).map_err(IpcError::from);
        let mut slot = lock(&self.slot);
        if let Some(f) = slot.forwarder.take() {
            f.abort();
        }
        let old = slot.client.take();
        match &built {
            Ok(c) => {
                slot.forwarder = Some(forward(c));
                slot.client = Some(c.clone());
                slot.error = None;
            }
            Err(e) => slot.error = Some(e.clone()),
        }
        drop(slot);
        lock(&self.users).clear();
        lock(&self.unread).reset(&[]);
        (built, old)
    }

    /// The current client.
    pub fn client(&self) -> IpcResult<Client> {
        let slot = lock(&self.slot);
        match (&slot.client, &slot.error) {
            (Some(c), _) => Ok(c.clone()),
            (None, Some(e)) => Err(e.clone()),
            (None, None) => Err(IpcError::internal("The app is still starting.")),
        }
    }

    pub fn remember(&self) -> bool {
        self.remember.load(Ordering::SeqCst)
    }
}

/// "Remember me" off: deletes the saved token and the last-account record right after the
/// login, so nothing survives this process (not even a crash). The running session keeps
/// its token in memory, so reconnects still work.
pub async fn forget_saved_login(
    client: &Client,
    server_url: &str,
    data_dir: &Path,
    user_id: &str,
) -> IpcResult<()> {
    let server = hongyan_sdk::config::parse_server_url(server_url)?;
    let key = SecretKey {
        name: format!("{}/{}", hongyan_sdk::config::host_port(&server), user_id),
        dir: client.account_dir(user_id),
    };
    let data_dir = data_dir.to_path_buf();
    tauri::async_runtime::spawn_blocking(move || -> hongyan_sdk::Result<()> {
        let store = SecretStore::new(SecretBackend::Auto);
        if let Err(e) = store.delete(&key) {
            tracing::warn!(error = %e, "could not delete the saved token");
        }
        let token_file = key.dir.join(secrets::TOKEN_FILE);
        if token_file.exists() {
            std::fs::remove_file(token_file)?;
        }
        secrets::save_last_account(&data_dir, None)
    })
    .await
    .map_err(|e| IpcError::internal(format!("Could not forget the sign-in: {e}.")))??;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_dir_prefers_the_env_then_the_sdk_default() {
        let fb = Path::new("/fallback");
        assert_eq!(data_dir(Some("/tmp/x".into()), fb), PathBuf::from("/tmp/x"));
        let d = data_dir(Some(" ".into()), fb);
        if let Some(default) = hongyan_sdk::config::default_data_dir() {
            assert_eq!(d, default);
        }
    }

    #[test]
    fn a_bad_server_address_is_an_ipc_error_until_fixed() {
        let dir = tempfile::tempdir().expect("tmp");
        let state = AppState::new(
            Instant::now(),
            dir.path().join("config"),
            dir.path().join("data"),
            Settings::default(),
        );
        assert_eq!(state.client().expect_err("none yet").kind, "internal");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("rt");
        rt.block_on(async {
            let (built, old) =
                state.install_client("ftp://nope", |_| tauri::async_runtime::spawn(async {}));
            assert!(built.is_err() && old.is_none());
            assert_eq!(state.client().expect_err("bad").kind, "invalid_request");
            let (built, _) = state.install_client("http://127.0.0.1:9", |_| {
                tauri::async_runtime::spawn(async {})
            });
            assert!(built.is_ok());
            assert!(state.client().is_ok());
            assert!(state.remember());
        });
    }
}
