//! App settings, persisted as JSON (`settings.json`) in the app config dir.
//!
//! `server_url` defaults to `http://127.0.0.1:3000`; the env var `HONGYAN_SERVER`, when set,
//! overrides whatever is saved (for scripts and tests; it is not written back unless the
//! user saves the settings). A missing or unreadable file gives the defaults; unknown or
//! missing fields fall back to their defaults one by one.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{IpcError, IpcResult};

/// The settings file name in the app config dir.
pub const FILE_NAME: &str = "settings.json";
/// The server used when nothing else is configured.
pub const DEFAULT_SERVER_URL: &str = "http://127.0.0.1:3000";
/// Env var that overrides `server_url`.
pub const SERVER_ENV: &str = "HONGYAN_SERVER";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Language {
    #[default]
    #[serde(rename = "en")]
    En,
    #[serde(rename = "zh-CN")]
    ZhCn,
}

/// What the settings screen edits (docs/IPC.md `Settings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub server_url: String,
    pub notifications: bool,
    pub theme: Theme,
    pub language: Language,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            server_url: DEFAULT_SERVER_URL.to_owned(),
            notifications: true,
            theme: Theme::default(),
            language: Language::default(),
        }
    }
}

impl Settings {
    /// Checks what the user typed; trims the URL.
    pub fn validated(mut self) -> IpcResult<Self> {
        self.server_url = self.server_url.trim().trim_end_matches('/').to_owned();
        hongyan_sdk::config::parse_server_url(&self.server_url).map_err(|_| {
            IpcError::invalid_request(format!(
                "\"{}\" is not a server address. Use one like http://127.0.0.1:3000.",
                self.server_url
            ))
        })?;
        Ok(self)
    }
}

/// Where the settings live.
pub fn path(config_dir: &Path) -> PathBuf {
    config_dir.join(FILE_NAME)
}

/// Reads the settings (defaults for a missing or broken file), then applies `env_server`.
pub fn load(config_dir: &Path, env_server: Option<String>) -> Settings {
    let mut settings = match std::fs::read_to_string(path(config_dir)) {
        Ok(text) => serde_json::from_str::<Settings>(&text).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "settings.json is unreadable; using the defaults");
            Settings::default()
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Settings::default(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read settings.json; using the defaults");
            Settings::default()
        }
    };
    if let Some(url) = env_server.filter(|u| !u.trim().is_empty()) {
        settings.server_url = url.trim().to_owned();
    }
    settings
}

/// `HONGYAN_SERVER` from the environment.
pub fn env_server() -> Option<String> {
    std::env::var(SERVER_ENV).ok()
}

/// Writes the settings atomically (temp file + rename).
pub fn save(config_dir: &Path, settings: &Settings) -> std::io::Result<()> {
    std::fs::create_dir_all(config_dir)?;
    let text = serde_json::to_vec_pretty(settings).map_err(std::io::Error::other)?;
    let target = path(config_dir);
    let tmp = target.with_extension("json.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, &target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_when_there_is_no_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let s = load(dir.path(), None);
        assert_eq!(s, Settings::default());
        assert_eq!(s.server_url, "http://127.0.0.1:3000");
        assert!(s.notifications);
        assert_eq!(
            serde_json::to_value(&s).expect("json"),
            serde_json::json!({"server_url": "http://127.0.0.1:3000", "notifications": true,
                               "theme": "system", "language": "en"})
        );
    }

    #[test]
    fn save_then_load_round_trips() {
        let dir = tempfile::tempdir().expect("tmp");
        let nested = dir.path().join("a/b");
        let s = Settings {
            server_url: "https://chat.example.com".into(),
            notifications: false,
            theme: Theme::Dark,
            language: Language::ZhCn,
        };
        save(&nested, &s).expect("save");
        assert_eq!(load(&nested, None), s);
        let raw = std::fs::read_to_string(path(&nested)).expect("file");
        assert!(
            raw.contains("\"zh-CN\"") && raw.contains("\"dark\""),
            "{raw}"
        );
        assert!(!nested.join("settings.json.tmp").exists());
    }

    #[test]
    fn env_overrides_and_bad_files_fall_back() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(path(dir.path()), "{not json").expect("write");
        assert_eq!(load(dir.path(), None), Settings::default());
        std::fs::write(path(dir.path()), r#"{"theme":"light","extra":1}"#).expect("write");
        let s = load(dir.path(), Some(" http://10.0.0.2:4000 ".into()));
        assert_eq!(s.theme, Theme::Light);
        assert_eq!(s.server_url, "http://10.0.0.2:4000");
        assert!(s.notifications, "missing fields get defaults");
        assert_eq!(
            load(dir.path(), Some(String::new())).server_url,
            DEFAULT_SERVER_URL
        );
    }

    #[test]
    fn validation_rejects_non_http_addresses() {
        let ok = Settings {
            server_url: " http://127.0.0.1:3000/ ".into(),
            ..Settings::default()
        }
        .validated()
        .expect("valid");
        assert_eq!(ok.server_url, "http://127.0.0.1:3000");
        for bad in ["", "127.0.0.1:3000", "ftp://x"] {
            let e = Settings {
                server_url: bad.into(),
                ..Settings::default()
            }
            .validated()
            .expect_err(bad);
            assert_eq!(e.kind, "invalid_request");
        }
    }
}
