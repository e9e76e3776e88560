//! Events the SDK pushes to the app over a `tokio::sync::broadcast` channel
//! ([`crate::Client::events`]). A slow receiver may miss events (`RecvError::Lagged`); the
//! store always has the truth, so a UI that lagged should reload what it shows.

use serde::{Deserialize, Serialize};

use crate::model::{Conversation, Message, MessageStatus};

/// State of the long connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionState {
    /// Connecting and logging in.
    Connecting,
    /// Logged in on the long connection.
    Connected,
    /// The link dropped; attempt number `attempt` starts in `in_ms` milliseconds.
    Reconnecting { attempt: u32, in_ms: u64 },
    /// Not connected and not trying (logged out, kicked, fatal login error, shut down).
    Offline,
}

/// Something happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum Event {
    /// A new message from someone else was stored (live or by sync).
    MessageReceived(Message),
    /// An own message changed status (Sent, Delivered, Read, Failed, or Sending on retry).
    MessageStatusChanged {
        id: String,
        status: MessageStatus,
    },
    /// A conversation's last message or unread count changed.
    ConversationUpdated(Conversation),
    ConnectionStateChanged(ConnectionState),
    /// The server ended this session (1 = logged in elsewhere, 2 = by an admin).
    /// The SDK does not reconnect.
    KickedOut {
        code: i32,
        reason: String,
    },
    /// The token was rejected; the user must log in again. The SDK does not reconnect.
    AuthExpired,
    /// The long-connection login was refused for another reason (1026 account disabled,
    /// 1027 client too old: `message` says to upgrade). The SDK does not reconnect.
    LoginRejected {
        code: i32,
        message: String,
    },
    /// A sync run finished; `count` new messages were stored.
    SyncCompleted {
        count: usize,
    },
}
