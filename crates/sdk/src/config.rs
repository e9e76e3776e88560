//! Client configuration: where the server is, how to reach it, where data lives and
//! every timer (all overridable so tests can run fast).

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

use crate::error::{Error, Result};
use crate::secrets::SecretBackend;

/// Which long connection to use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Transport {
    /// `ws://HOST:PORT/websocket` (`wss://` when `server_url` is `https://`).
    #[default]
    WebSocket,
    /// Length-prefixed TCP at `addr` (`host:port`).
    Tcp { addr: String },
}

/// Timers of the long connection and the QoS outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    /// Heartbeat (type 1) period. Default 15 s.
    pub heartbeat: Duration,
    /// No inbound traffic for this long = dead link; drop and reconnect. Default 20 s.
    pub dead_link: Duration,
    /// Bound on connecting plus waiting for the login answer. Default 10 s.
    pub connect_timeout: Duration,
    /// How often the outbox is checked for resends. Default 5 s.
    pub qos_check: Duration,
    /// Entries sent more recently than this are not resent yet. Default 3 s.
    pub qos_min_age: Duration,
    /// Resends on one connection before a message is marked failed. Default 2.
    pub qos_max_retries: u32,
    /// First reconnect delay (before jitter). Default 1 s.
    pub backoff_min: Duration,
    /// Largest reconnect delay (before jitter). Default 15 s.
    pub backoff_max: Duration,
    /// Timeout of one HTTP request. Default 15 s.
    pub http_timeout: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(15),
            dead_link: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(10),
            qos_check: Duration::from_secs(5),
            qos_min_age: Duration::from_secs(3),
            qos_max_retries: 2,
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(15),
            http_timeout: Duration::from_secs(15),
        }
    }
}

/// Everything a [`crate::Client`] needs.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// HTTP base URL, e.g. `http://127.0.0.1:3000`. The WebSocket URL is derived from it.
    pub server_url: String,
    pub transport: Transport,
    /// Stores live under `<data_dir>/<host_port>/<user_id>/`.
    pub data_dir: PathBuf,
    /// The app's version (`X.Y.Z`), sent in headers and the login `extra`.
    pub app_version: String,
    /// A human-readable device name sent in the login `extra`.
    pub device: String,
    pub secrets: SecretBackend,
    pub timing: Timing,
    /// The client core's release as `yyMMdd`, announced in headers and the login `extra`;
    /// the server downgrades kinds newer than this to text. Default
    /// [`crate::version::CORE_LEVEL`]; tests set older or newer levels.
    pub core_level: u32,
}

impl ClientConfig {
    /// A config with defaults for everything but the server and the data directory.
    pub fn new(server_url: impl Into<String>, data_dir: impl Into<PathBuf>) -> Self {
        Self {
            server_url: server_url.into(),
            transport: Transport::WebSocket,
            data_dir: data_dir.into(),
            app_version: crate::version::DEFAULT_APP_VERSION.to_owned(),
            device: default_device(),
            secrets: SecretBackend::Auto,
            timing: Timing::default(),
            core_level: crate::version::CORE_LEVEL,
        }
    }
}

/// `$XDG_DATA_HOME/hongyan` (or the OS equivalent), the default `data_dir`.
pub fn default_data_dir() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("hongyan"))
}

fn default_device() -> String {
    format!("{} {}", std::env::consts::OS, std::env::consts::ARCH)
}

/// Parses and checks the HTTP base URL (`http` or `https`, with a host).
pub fn parse_server_url(server_url: &str) -> Result<Url> {
    let url = Url::parse(server_url.trim())
        .map_err(|e| Error::Config(format!("server_url {server_url:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::Config(format!(
            "server_url {server_url:?} must be http:// or https:// with a host"
        )));
    }
    Ok(url)
}

/// The WebSocket URL for an HTTP base: `http→ws`, `https→wss`, path `/websocket`.
pub fn websocket_url(server: &Url) -> Result<Url> {
    let mut ws = server.clone();
    let scheme = if server.scheme() == "https" {
        "wss"
    } else {
        "ws"
    };
    ws.set_scheme(scheme)
        .map_err(|_| Error::Config(format!("cannot derive a WebSocket URL from {server}")))?;
    ws.set_path("/websocket");
    ws.set_query(None);
    ws.set_fragment(None);
    Ok(ws)
}

/// The per-server directory name: `host_port` (port = the scheme default if none given).
pub fn host_port(server: &Url) -> String {
    let host = server.host_str().unwrap_or("unknown");
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = server.port_or_known_default().unwrap_or(0);
    let safe: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}_{port}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_url_is_derived_from_http() {
        let u = parse_server_url("http://127.0.0.1:3000").expect("ok");
        assert_eq!(
            websocket_url(&u).expect("ws").as_str(),
            "ws://127.0.0.1:3000/websocket"
        );
        let u = parse_server_url("https://chat.example.com/api/?x=1").expect("ok");
        assert_eq!(
            websocket_url(&u).expect("wss").as_str(),
            "wss://chat.example.com/websocket"
        );
        let u = parse_server_url("http://[::1]:8080").expect("ok");
        assert_eq!(
            websocket_url(&u).expect("ws").as_str(),
            "ws://[::1]:8080/websocket"
        );
    }

    #[test]
    fn bad_server_urls_are_config_errors() {
        for bad in ["", "127.0.0.1:3000", "ftp://x", "not a url"] {
            assert!(
                matches!(parse_server_url(bad), Err(Error::Config(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn host_port_is_a_safe_directory_name() {
        let p = |s: &str| host_port(&parse_server_url(s).expect("ok"));
        assert_eq!(p("http://127.0.0.1:3000"), "127.0.0.1_3000");
        assert_eq!(p("https://chat.example.com"), "chat.example.com_443");
        assert_eq!(p("http://[::1]:80"), "__1_80");
    }

    #[test]
    fn default_timing_matches_mobileimsdk() {
        let t = Timing::default();
        assert_eq!(t.heartbeat, Duration::from_secs(15));
        assert_eq!(t.dead_link, Duration::from_secs(20));
        assert_eq!(
            (t.qos_check, t.qos_min_age),
            (Duration::from_secs(5), Duration::from_secs(3))
        );
        assert_eq!(t.qos_max_retries, 2);
        assert_eq!(
            (t.backoff_min, t.backoff_max),
            (Duration::from_secs(1), Duration::from_secs(15))
        );
    }
}
