//! Numeric codes carried in login responses, error packets (type 52) and kickouts (type 54).

/// Login accepted.
pub const LOGIN_OK: i32 = 0;
/// Bad or expired token.
pub const LOGIN_BAD_TOKEN: i32 = 1025;
/// The account is disabled.
pub const LOGIN_ACCOUNT_DISABLED: i32 = 1026;
/// The client's core_level is below the server's minimum; the user must upgrade.
pub const LOGIN_CLIENT_TOO_OLD: i32 = 1027;

/// A packet other than login/keepalive/echo arrived before a successful login.
pub const ERR_NOT_LOGGED_IN: i32 = 301;
/// Not friends with the recipient, or not a member of the group.
pub const ERR_NOT_ALLOWED: i32 = 1101;
/// Rate limited.
pub const ERR_RATE_LIMITED: i32 = 1102;
/// The frame body exceeds [`crate::MAX_BODY`].
pub const ERR_FRAME_TOO_LARGE: i32 = 1103;
/// Malformed JSON, unknown packet type or a missing required field.
pub const ERR_MALFORMED: i32 = 1104;
/// `from` does not match the logged-in user.
pub const ERR_SPOOFED_FROM: i32 = 1105;
/// The server could not store the message (the client should resend later).
pub const ERR_SERVER_BUSY: i32 = 1106;
/// The recipient does not exist.
pub const ERR_NO_SUCH_RECIPIENT: i32 = 1107;

/// Kickout reason: the same account logged in from another client.
pub const KICKOUT_DUPLICATE_LOGIN: i32 = 1;
/// Kickout reason: an administrator ended the session.
pub const KICKOUT_BY_ADMIN: i32 = 2;
