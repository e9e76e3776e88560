//! The SDK's error type. Every variant has a message a UI can show as is; none of them
//! ever contains a token, a password or a message body.

/// Result alias used across the SDK.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Login: wrong username or password.
    #[error("wrong username or password")]
    InvalidCredentials,
    /// Register: the username is taken.
    #[error("this username is already taken")]
    UsernameTaken,
    /// The server rejected the request's input.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The server rejected the token on an HTTP request.
    #[error("not authorized, please log in again")]
    Unauthorized,
    /// The long connection rejected the token (login code 1025).
    #[error("your session has expired, please log in again")]
    TokenExpired,
    /// The account is disabled (HTTP 403 or login code 1026).
    #[error("this account is disabled")]
    AccountDisabled,
    /// The server needs a newer client (login code 1027); carries the server's message.
    #[error("this version of Hongyan is too old: {0}")]
    ClientTooOld(String),
    /// The long connection login failed with another code.
    #[error("login rejected (code {code}): {message}")]
    LoginRejected { code: i32, message: String },
    /// The server could not be reached or the connection broke.
    #[error("network error: {0}")]
    Network(String),
    /// A connect, login or request took too long.
    #[error("timed out")]
    Timeout,
    /// Any other HTTP error answer.
    #[error("server error {status} ({code}): {message}")]
    Server {
        status: u16,
        code: String,
        message: String,
    },
    /// The server sent something that does not follow the protocol.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The local SQLite store failed.
    #[error("local store error: {0}")]
    Store(#[from] rusqlite::Error),
    /// The secret store (keyring or token file) failed.
    #[error("secret storage error: {0}")]
    Secret(String),
    /// The message would exceed the protocol's size limit.
    #[error("the message is too large")]
    MessageTooLarge,
    /// An operation that needs a logged-in account was called without one.
    #[error("not logged in")]
    NotLoggedIn,
    /// `login`/`resume` while an account is active.
    #[error("already logged in; log out or shut down first")]
    AlreadyLoggedIn,
    /// No message with this id in the local store.
    #[error("no such message: {0}")]
    MessageNotFound(String),
    /// The message cannot be retried in its current state.
    #[error("the message cannot be retried")]
    NotRetryable,
    /// The configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The search index failed or is not available.
    #[error("search is not available: {0}")]
    Search(String),
    /// An image could not be prepared for sending (too large, too many pixels, not an
    /// image the SDK can send, unreadable).
    #[error("{0}")]
    Media(#[from] crate::media::MediaError),
    /// The server refused a file as larger than it accepts (HTTP 413).
    #[error("the file is too large for the server: {0}")]
    MediaTooLarge(String),
    /// The server does not accept this kind of file (HTTP 415; JPEG, PNG, GIF, WebP only).
    #[error("the server does not accept this file type: {0}")]
    UnsupportedMedia(String),
    /// The server received bytes that do not match the file's hash (HTTP 400
    /// `hash_mismatch`): the file changed or was damaged on the way.
    #[error("the uploaded file was damaged on the way (its hash does not match)")]
    HashMismatch,
    /// The server does not have this image (or sticker): it cannot be shown.
    #[error("image unavailable: {0} is not on the server")]
    MediaUnavailable(String),
    /// Local file I/O failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The client is shutting down.
    #[error("the client is shutting down")]
    Shutdown,
}

impl Error {
    /// Whether retrying later may help (network trouble rather than a hard rejection).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Network(_) | Self::Timeout)
            || matches!(self, Self::Server { status, .. } if *status >= 500)
    }
}

impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            Self::Timeout
        } else if e.is_decode() {
            Self::Protocol(format!("unexpected HTTP answer: {}", e.without_url()))
        } else {
            Self::Network(e.without_url().to_string())
        }
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::Io(std::io::Error::other(e.to_string()))
    }
}
