//! The Hongyan wire contract (see `docs/PROTOCOL.md`).
//!
//! The long connection speaks the MobileIMSDK v6 envelope ("Protocal") so stock MobileIMSDK
//! clients can talk to a Hongyan server. This crate holds only types and pure functions:
//! the envelope, its typed payloads, the TCP length-prefix codec and `core_level` parsing.
//! It does no I/O; the SDK and the server share it.

pub mod api;
pub mod codec;
pub mod codes;
pub mod envelope;
pub mod kinds;
pub mod payload;
pub mod version;

pub use codec::{FrameCodec, FrameError};
pub use envelope::{DecodeError, Envelope, PacketType, MAX_BODY};
pub use payload::{ErrorResponse, KickoutInfo, LoginExtra, LoginInfo, LoginResponse};
pub use version::{ClientVersion, Platform};

/// The user id the server speaks as (`from`/`to` = `"0"`).
pub const SERVER_ID: &str = "0";

/// `tracing` filter directives every Hongyan binary (server, app, CLI) adds after its own
/// filter, so they hold whatever `RUST_LOG` says (docs/RELIABILITY.md, "Secrets"): the
/// WebSocket library prints every message at `trace` (a login frame's token, chat bodies) and
/// the PostgreSQL client every statement's parameters at `debug` (message bodies).
pub const LOG_REDACTION_DIRECTIVES: &[&str] = &[
    "tungstenite=debug",
    "tokio_tungstenite=debug",
    "tokio_postgres=info",
];

/// Current wall-clock time in milliseconds since the Unix epoch, as `sm` and
/// `firstLoginTime` carry it.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
