//! The one error shape every command returns: `{ kind, message }` (docs/IPC.md).
//!
//! Every [`hongyan_sdk::Error`] variant maps to a stable `kind` the UI can switch on and an
//! English sentence a person understands. No message ever carries a token or a password
//! (the SDK's errors never contain them either).

use hongyan_sdk::media::MediaError;
use hongyan_sdk::Error;
use serde::Serialize;

/// What a command hands the UI when it fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpcError {
    pub kind: &'static str,
    pub message: String,
}

impl IpcError {
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new("invalid_request", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new("internal", message)
    }
}

impl std::fmt::Display for IpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for IpcError {}

/// `Result` of a command.
pub type IpcResult<T> = Result<T, IpcError>;

fn sentence(detail: &str) -> String {
    let d = detail.trim().trim_end_matches('.');
    let mut chars = d.chars();
    match chars.next() {
        Some(c) => format!("{}{}.", c.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

impl From<Error> for IpcError {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidCredentials => {
                Self::new("invalid_credentials", "Wrong username or password.")
            }
            Error::UsernameTaken => Self::new(
                "username_taken",
                "This username is already taken. Please choose another one.",
            ),
            Error::InvalidRequest(m) if m.trim().is_empty() => {
                Self::invalid_request("The server did not accept this request.")
            }
            Error::InvalidRequest(m) => Self::invalid_request(sentence(&m)),
            Error::Unauthorized => Self::new(
                "unauthorized",
                "You are not signed in any more. Please sign in again.",
            ),
            Error::TokenExpired => Self::new(
                "token_expired",
                "Your session has expired. Please sign in again.",
            ),
            Error::AccountDisabled => Self::new(
                "account_disabled",
                "This account is disabled. Contact the server's administrator.",
            ),
            Error::ClientTooOld(m) => Self::new(
                "client_too_old",
                if m.trim().is_empty() {
                    "This version of Hongyan is too old for the server. Please update the app."
                        .to_owned()
                } else {
                    format!(
                        "This version of Hongyan is too old for the server. Please update the app. ({})",
                        m.trim()
                    )
                },
            ),
            Error::LoginRejected { code, message } => Self::new(
                "server",
                format!(
                    "The server refused the sign-in (code {code}){}",
                    if message.trim().is_empty() {
                        ".".to_owned()
                    } else {
                        format!(": {}", sentence(&message))
                    }
                ),
            ),
            Error::Network(_) => Self::new(
                "network",
                "Cannot reach the server. Check the server address in the settings and your network connection.",
            ),
            Error::Timeout => Self::new(
                "timeout",
                "The server took too long to answer. Please try again.",
            ),
            Error::Server { code, .. } if code == "not_found" => {
                Self::new("not_found", "The server has no such item.")
            }
            Error::Server { code, .. } if code == "already_friends" => {
                Self::new("already_friends", "You are already friends.")
            }
            // The server's sentence says what was exceeded and when to try again.
            Error::Server {
                status: 429,
                message,
                ..
            } => Self::new(
                "rate_limited",
                if message.trim().is_empty() {
                    "Too many attempts. Please wait a moment and try again.".to_owned()
                } else {
                    format!("Slow down — {}", sentence(&message.replace("rate limited: ", "")))
                },
            ),
            Error::Server { status: 403, .. } => {
                Self::new("forbidden", "You are not allowed to do that.")
            }
            Error::Server {
                status: 409,
                message,
                ..
            } => Self::new(
                "conflict",
                if message.trim().is_empty() {
                    "This was already handled (for example, the request was answered).".to_owned()
                } else {
                    format!("This was already handled: {}", sentence(&message))
                },
            ),
            Error::Server {
                status, message, ..
            } => Self::new(
                "server",
                if message.trim().is_empty() {
                    format!("The server had a problem (HTTP {status}). Please try again later.")
                } else {
                    format!(
                        "The server had a problem (HTTP {status}): {}",
                        sentence(&message)
                    )
                },
            ),
            Error::Protocol(_) => Self::new(
                "server",
                "The server sent an answer this app does not understand. Is the server address right?",
            ),
            Error::Store(e) => Self::internal(format!(
                "The local message store failed ({e}). Restarting the app may help."
            )),
            Error::Secret(_) => Self::internal(
                "The app could not read or save your sign-in in the system keyring.",
            ),
            Error::MessageTooLarge => Self::new(
                "message_too_large",
                "This message is too long to send. Please shorten it.",
            ),
            Error::NotLoggedIn => Self::new("not_logged_in", "Please sign in first."),
            Error::AlreadyLoggedIn => {
                Self::invalid_request("You are already signed in. Sign out first.")
            }
            Error::MessageNotFound(_) => Self::new("not_found", "That message no longer exists."),
            Error::NotRetryable => Self::invalid_request(
                "This message cannot be sent again: it has not failed.",
            ),
            Error::Config(m) => Self::invalid_request(format!(
                "The server address is not valid: {}",
                sentence(&m)
            )),
            Error::Io(e) => Self::internal(format!("A local file could not be read or written ({e}).")),
            Error::Shutdown => Self::internal("The app is shutting down."),
            Error::Search(_) => Self::internal(
                "Search is not available right now. Your messages are safe; the search index is rebuilt from them.",
            ),
            Error::Media(e) => media_error(e),
            Error::MediaTooLarge(_) => Self::new(
                "media_too_large",
                "The server does not accept files this large.",
            ),
            Error::UnsupportedMedia(_) => Self::new(
                "unsupported_media",
                "The server does not accept this kind of file (JPEG, PNG, GIF or WebP only).",
            ),
            Error::HashMismatch => Self::new(
                "server",
                "The image was damaged on the way to the server. Please try again.",
            ),
            Error::MediaUnavailable(_) => {
                Self::new("not_found", "This image is not available any more.")
            }
            other => Self::internal(format!("Something went wrong: {}", sentence(&other.to_string()))),
        }
    }
}

const MIB: f64 = 1024.0 * 1024.0;

/// Why an image could not be prepared, in words.
fn media_error(e: MediaError) -> IpcError {
    match e {
        MediaError::TooLarge { bytes, limit } => IpcError::new(
            "media_too_large",
            format!(
                "This image is too large to send ({:.1} MB; at most {:.0} MB).",
                bytes as f64 / MIB,
                limit as f64 / MIB
            ),
        ),
        MediaError::TooManyPixels {
            width,
            height,
            limit,
        } => IpcError::new(
            "media_too_large",
            format!(
                "This image has too many pixels to send ({width}×{height}; at most {} megapixels).",
                limit / 1_000_000
            ),
        ),
        MediaError::Unsupported(_) => IpcError::new(
            "unsupported_media",
            "This file is not an image the app can send (JPEG, PNG, GIF or WebP).",
        ),
        MediaError::Decode(_) => IpcError::new(
            "unsupported_media",
            "This image cannot be read: the file may be damaged.",
        ),
        MediaError::InvalidQuality(q) => IpcError::invalid_request(format!(
            "The image quality “{q}” is unknown (standard, hd or original)."
        )),
        other => IpcError::internal(format!(
            "The image could not be prepared: {}",
            sentence(&other.to_string())
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(e: Error) -> &'static str {
        IpcError::from(e).kind
    }

    #[test]
    fn every_sdk_error_has_a_documented_kind() {
        let documented = [
            "invalid_credentials",
            "username_taken",
            "invalid_request",
            "unauthorized",
            "token_expired",
            "account_disabled",
            "client_too_old",
            "network",
            "timeout",
            "server",
            "not_logged_in",
            "message_too_large",
            "not_found",
            "already_friends",
            "forbidden",
            "conflict",
            "internal",
            "media_too_large",
            "unsupported_media",
            "rate_limited",
        ];
        let all = vec![
            (Error::InvalidCredentials, "invalid_credentials"),
            (Error::UsernameTaken, "username_taken"),
            (Error::InvalidRequest("too short".into()), "invalid_request"),
            (Error::Unauthorized, "unauthorized"),
            (Error::TokenExpired, "token_expired"),
            (Error::AccountDisabled, "account_disabled"),
            (
                Error::ClientTooOld("update to 2.0".into()),
                "client_too_old",
            ),
            (
                Error::LoginRejected {
                    code: 1099,
                    message: "nope".into(),
                },
                "server",
            ),
            (Error::Network("connection refused".into()), "network"),
            (Error::Timeout, "timeout"),
            (
                Error::Server {
                    status: 500,
                    code: "internal_error".into(),
                    message: "boom".into(),
                },
                "server",
            ),
            (
                Error::Server {
                    status: 429,
                    code: "rate_limited".into(),
                    message:
                        "rate limited: too many login attempts for this account; try again in 12 s"
                            .into(),
                },
                "rate_limited",
            ),
            (
                Error::Server {
                    status: 404,
                    code: "not_found".into(),
                    message: "no such user".into(),
                },
                "not_found",
            ),
            (
                Error::Server {
                    status: 409,
                    code: "already_friends".into(),
                    message: "already friends".into(),
                },
                "already_friends",
            ),
            (
                Error::Server {
                    status: 409,
                    code: "conflict".into(),
                    message: "request is not pending".into(),
                },
                "conflict",
            ),
            (
                Error::Server {
                    status: 403,
                    code: "forbidden".into(),
                    message: "only the owner may remove members".into(),
                },
                "forbidden",
            ),
            (Error::Protocol("bad json".into()), "server"),
            (Error::Store(rusqlite_error()), "internal"),
            (Error::Secret("dbus".into()), "internal"),
            (Error::MessageTooLarge, "message_too_large"),
            (Error::NotLoggedIn, "not_logged_in"),
            (Error::AlreadyLoggedIn, "invalid_request"),
            (Error::MessageNotFound("x".into()), "not_found"),
            (Error::NotRetryable, "invalid_request"),
            (Error::Config("bad url".into()), "invalid_request"),
            (Error::Io(std::io::Error::other("disk full")), "internal"),
            (Error::Shutdown, "internal"),
            (Error::Search("index locked".into()), "internal"),
            (
                Error::Media(MediaError::TooLarge {
                    bytes: 80 << 20,
                    limit: 64 << 20,
                }),
                "media_too_large",
            ),
            (
                Error::Media(MediaError::TooManyPixels {
                    width: 20_000,
                    height: 20_000,
                    limit: 100_000_000,
                }),
                "media_too_large",
            ),
            (
                Error::Media(MediaError::Unsupported("tiff".into())),
                "unsupported_media",
            ),
            (
                Error::Media(MediaError::Decode("eof".into())),
                "unsupported_media",
            ),
            (Error::Media(MediaError::Encode("oom".into())), "internal"),
            (
                Error::Media(MediaError::InvalidQuality("ultra".into())),
                "invalid_request",
            ),
            (Error::MediaTooLarge("33554433".into()), "media_too_large"),
            (
                Error::UnsupportedMedia("text/plain".into()),
                "unsupported_media",
            ),
            (Error::HashMismatch, "server"),
            (Error::MediaUnavailable("ab".into()), "not_found"),
        ];
        for (e, want) in all {
            let shown = format!("{e:?}");
            let ipc = IpcError::from(e);
            assert_eq!(ipc.kind, want, "{shown}");
            assert!(documented.contains(&ipc.kind), "{shown}");
            assert!(
                ipc.message.len() > 5 && ipc.message.ends_with(['.', '?', ')']),
                "{shown}: {:?}",
                ipc.message
            );
            let first = ipc.message.chars().next().expect("non-empty");
            assert!(first.is_uppercase(), "{shown}: {:?}", ipc.message);
        }
    }

    #[test]
    fn image_limits_are_told_with_their_figures() {
        let e = IpcError::from(Error::Media(MediaError::TooLarge {
            bytes: 80 << 20,
            limit: 64 << 20,
        }));
        assert_eq!(
            e.message,
            "This image is too large to send (80.0 MB; at most 64 MB)."
        );
        let e = IpcError::from(Error::Media(MediaError::TooManyPixels {
            width: 20_000,
            height: 10_000,
            limit: 100_000_000,
        }));
        assert_eq!(
            e.message,
            "This image has too many pixels to send (20000×10000; at most 100 megapixels)."
        );
    }

    fn rusqlite_error() -> rusqlite::Error {
        rusqlite::Error::InvalidQuery
    }

    #[test]
    fn serializes_as_kind_and_message() {
        let json = serde_json::to_value(IpcError::from(Error::InvalidCredentials)).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"kind": "invalid_credentials", "message": "Wrong username or password."})
        );
        assert_eq!(
            kind(Error::InvalidRequest(String::new())),
            "invalid_request"
        );
        assert_eq!(
            IpcError::from(Error::InvalidRequest("username too short".into())).message,
            "Username too short."
        );
    }

    #[test]
    fn rate_limited_says_what_and_when() {
        let e = IpcError::from(Error::Server {
            status: 429,
            code: "rate_limited".into(),
            message: "rate limited: too many login attempts for this account; try again in 12 s"
                .into(),
        });
        assert_eq!(e.kind, "rate_limited");
        assert_eq!(
            e.message,
            "Slow down — Too many login attempts for this account; try again in 12 s."
        );
    }
}
