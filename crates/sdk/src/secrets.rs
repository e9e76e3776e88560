//! Token storage.
//!
//! Tokens live in the OS keyring (the `keyring` crate: Secret Service on Linux, Keychain on
//! macOS, Credential Manager on Windows) under service `"hongyan"` and user
//! `"<host_port>/<user_id>"`.
//!
//! **Fallback.** With [`SecretBackend::Auto`] (the default) the SDK probes the keyring the
//! first time it needs a secret (login or resume). When no keyring is usable — typically a Linux session without a
//! running Secret Service (no `gnome-keyring`/`kwallet`, headless boxes, CI) — the keyring
//! answers `NoStorageAccess` or `PlatformFailure` and the SDK falls back to a file named
//! `token` in the account directory (`<data_dir>/<host_port>/<user_id>/token`), created with
//! mode `0600` (owner read/write only). It logs one warning when it falls back. Such a file
//! is only as safe as the user's home directory; [`crate::Client::secret_backend`] tells the
//! app which backend is in use so it can say so. [`SecretBackend::Memory`] keeps tokens in
//! the process only (nothing survives a restart); [`SecretBackend::File`] forces the file.
//!
//! No secret is ever logged. `<data_dir>/accounts.json` remembers the last account (user id,
//! username and server, no secret) so [`crate::Client::resume`] knows whose token to load.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Once, OnceLock};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Keyring service name.
pub const SERVICE: &str = "hongyan";
/// Token file name in the account directory (file backend).
pub const TOKEN_FILE: &str = "token";
/// The last-account file in `data_dir`.
pub const ACCOUNTS_FILE: &str = "accounts.json";

/// Where tokens are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretBackend {
    /// The keyring if it works, else the `0600` file (with a warning).
    #[default]
    Auto,
    /// The OS keyring only.
    Keyring,
    /// A `0600` file in the account directory.
    File,
    /// In this process only.
    Memory,
}

/// Identifies one account's secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretKey {
    /// `"<host_port>/<user_id>"`: the keyring user name.
    pub name: String,
    /// The account directory (file backend).
    pub dir: PathBuf,
}

/// A token store. `Auto` is resolved (keyring probe, a blocking call) on first use.
#[derive(Clone)]
pub struct SecretStore {
    wanted: SecretBackend,
    resolved: Arc<OnceLock<SecretBackend>>,
    memory: Arc<Mutex<HashMap<String, String>>>,
}

impl std::fmt::Debug for SecretStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretStore")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

static FALLBACK_WARNING: Once = Once::new();

fn is_unavailable(e: &keyring::Error) -> bool {
    matches!(
        e,
        keyring::Error::NoStorageAccess(_) | keyring::Error::PlatformFailure(_)
    )
}

fn keyring_error(e: keyring::Error) -> Error {
    Error::Secret(format!("keyring: {e}"))
}

impl SecretStore {
    /// A store using `wanted`; `Auto` is resolved lazily (see [`SecretStore::resolve`]).
    pub fn new(wanted: SecretBackend) -> Self {
        let resolved = Arc::new(OnceLock::new());
        if wanted != SecretBackend::Auto {
            let _ = resolved.set(wanted);
        }
        Self {
            wanted,
            resolved,
            memory: Arc::default(),
        }
    }

    /// The backend in use; `None` while `Auto` has not been resolved yet.
    pub fn backend(&self) -> Option<SecretBackend> {
        self.resolved.get().copied()
    }

    /// The backend in use, resolving `Auto` now if needed: probe the keyring (a blocking
    /// call) and fall back to `File` when it is unavailable, with one warning.
    pub fn resolve(&self) -> SecretBackend {
        *self.resolved.get_or_init(|| match self.wanted {
            SecretBackend::Auto => match probe_keyring() {
                Ok(()) => SecretBackend::Keyring,
                Err(e) => {
                    FALLBACK_WARNING.call_once(|| {
                        tracing::warn!(
                            error = %e,
                            "no usable OS keyring; tokens are stored in a 0600 file in the account directory"
                        );
                    });
                    SecretBackend::File
                }
            },
            other => other,
        })
    }

    /// Stores `token` for `key`, replacing any previous one.
    pub fn set(&self, key: &SecretKey, token: &str) -> Result<()> {
        match self.resolve() {
            SecretBackend::Keyring | SecretBackend::Auto => keyring::Entry::new(SERVICE, &key.name)
                .and_then(|e| e.set_password(token))
                .map_err(keyring_error),
            SecretBackend::File => write_private(&key.dir.join(TOKEN_FILE), token.as_bytes()),
            SecretBackend::Memory => {
                self.mem().insert(key.name.clone(), token.to_owned());
                Ok(())
            }
        }
    }

    /// The token for `key`, if one is stored.
    pub fn get(&self, key: &SecretKey) -> Result<Option<String>> {
        match self.resolve() {
            SecretBackend::Keyring | SecretBackend::Auto => {
                match keyring::Entry::new(SERVICE, &key.name).and_then(|e| e.get_password()) {
                    Ok(t) => Ok(Some(t)),
                    Err(keyring::Error::NoEntry) => Ok(None),
                    Err(e) => Err(keyring_error(e)),
                }
            }
            SecretBackend::File => match std::fs::read_to_string(key.dir.join(TOKEN_FILE)) {
                Ok(t) if !t.trim().is_empty() => Ok(Some(t.trim().to_owned())),
                Ok(_) => Ok(None),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(Error::Secret(format!("token file: {e}"))),
            },
            SecretBackend::Memory => Ok(self.mem().get(&key.name).cloned()),
        }
    }

    /// Deletes the token for `key` (no error if there was none).
    pub fn delete(&self, key: &SecretKey) -> Result<()> {
        match self.resolve() {
            SecretBackend::Keyring | SecretBackend::Auto => {
                match keyring::Entry::new(SERVICE, &key.name).and_then(|e| e.delete_credential()) {
                    Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                    Err(e) => Err(keyring_error(e)),
                }
            }
            SecretBackend::File => match std::fs::remove_file(key.dir.join(TOKEN_FILE)) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(Error::Secret(format!("token file: {e}"))),
            },
            SecretBackend::Memory => {
                self.mem().remove(&key.name);
                Ok(())
            }
        }
    }

    fn mem(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn probe_keyring() -> std::result::Result<(), keyring::Error> {
    let entry = keyring::Entry::new(SERVICE, "__hongyan_probe__")?;
    match entry.get_password() {
        Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) if is_unavailable(&e) => Err(e),
        // Anything else (bad encoding, ambiguous) still proves the keyring answers.
        Err(_) => Ok(()),
    }
}

/// Writes `bytes` to `path` with mode 0600 (created so; never world-readable in between).
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// The last account, remembered in `<data_dir>/accounts.json` (no secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastAccount {
    pub user_id: String,
    pub username: String,
    /// `host_port` of the server.
    pub server: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct AccountsFile {
    #[serde(default)]
    last: Option<LastAccount>,
}

/// Reads the last account of `server` (`host_port`) from `data_dir`.
pub fn load_last_account(data_dir: &Path, server: &str) -> Result<Option<LastAccount>> {
    let text = match std::fs::read_to_string(data_dir.join(ACCOUNTS_FILE)) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let file: AccountsFile = serde_json::from_str(&text).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "ignoring an unreadable accounts.json");
        AccountsFile::default()
    });
    Ok(file.last.filter(|a| a.server == server))
}

/// Remembers (or, with `None`, forgets) the last account.
pub fn save_last_account(data_dir: &Path, last: Option<&LastAccount>) -> Result<()> {
    let file = AccountsFile {
        last: last.cloned(),
    };
    let text = serde_json::to_vec_pretty(&file)
        .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;
    write_private(&data_dir.join(ACCOUNTS_FILE), &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(dir: &Path, user: &str) -> SecretKey {
        SecretKey {
            name: format!("test_0/{user}"),
            dir: dir.join(user),
        }
    }

    fn round_trip(store: &SecretStore, k: &SecretKey) {
        assert_eq!(store.get(k).expect("get"), None);
        store.set(k, "tok-1").expect("set");
        store.set(k, "tok-2").expect("replace");
        assert_eq!(store.get(k).expect("get").as_deref(), Some("tok-2"));
        store.delete(k).expect("delete");
        store.delete(k).expect("delete twice is fine");
        assert_eq!(store.get(k).expect("get"), None);
    }

    #[test]
    fn memory_backend_round_trips() {
        let dir = tempfile::tempdir().expect("tmp");
        let s = SecretStore::new(SecretBackend::Memory);
        assert_eq!(s.backend(), Some(SecretBackend::Memory));
        round_trip(&s, &key(dir.path(), "1"));
        assert!(!dir.path().join("1").join(TOKEN_FILE).exists());
    }

    #[test]
    fn file_backend_round_trips_with_private_mode() {
        let dir = tempfile::tempdir().expect("tmp");
        let s = SecretStore::new(SecretBackend::File);
        let k = key(dir.path(), "2");
        round_trip(&s, &k);
        s.set(&k, "secret").expect("set");
        let path = k.dir.join(TOKEN_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // A second store (a later process) reads the same file.
        let again = SecretStore::new(SecretBackend::File);
        assert_eq!(again.get(&k).expect("get").as_deref(), Some("secret"));
    }

    #[test]
    fn keyring_backend_round_trips_when_enabled() {
        if std::env::var("HONGYAN_KEYRING_TEST").as_deref() != Ok("1") {
            eprintln!("skipped: set HONGYAN_KEYRING_TEST=1 with a running Secret Service");
            return;
        }
        let dir = tempfile::tempdir().expect("tmp");
        let auto = SecretStore::new(SecretBackend::Auto);
        assert_eq!(auto.backend(), None, "Auto resolves lazily");
        assert_eq!(
            auto.resolve(),
            SecretBackend::Keyring,
            "Auto must pick a working keyring"
        );
        let s = SecretStore::new(SecretBackend::Keyring);
        let k = key(dir.path(), &format!("kr-{}", std::process::id()));
        round_trip(&s, &k);
        assert!(
            !k.dir.join(TOKEN_FILE).exists(),
            "keyring must not write the file"
        );
    }

    #[test]
    fn last_account_is_remembered_per_server() {
        let dir = tempfile::tempdir().expect("tmp");
        assert_eq!(load_last_account(dir.path(), "h_1").expect("none"), None);
        let a = LastAccount {
            user_id: "10001".into(),
            username: "alice".into(),
            server: "h_1".into(),
        };
        save_last_account(dir.path(), Some(&a)).expect("save");
        assert_eq!(load_last_account(dir.path(), "h_1").expect("load"), Some(a));
        assert_eq!(
            load_last_account(dir.path(), "other_2").expect("load"),
            None
        );
        save_last_account(dir.path(), None).expect("forget");
        assert_eq!(load_last_account(dir.path(), "h_1").expect("load"), None);
        std::fs::write(dir.path().join(ACCOUNTS_FILE), "garbage").expect("write");
        assert_eq!(
            load_last_account(dir.path(), "h_1").expect("tolerant"),
            None
        );
    }
}
