//! Events the SDK pushes to the app over a `tokio::sync::broadcast` channel
//! ([`crate::Client::events`]). A slow receiver may miss events (`RecvError::Lagged`); the
//! store always has the truth, so a UI that lagged should reload what it shows.

use serde::{Deserialize, Serialize};

use crate::model::{Conversation, FriendRequest, Group, Message, MessageStatus};

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

/// Something happened. New variants may be added; match with a wildcard arm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
#[non_exhaustive]
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
    /// Someone asked to be this account's friend (live or by sync).
    FriendRequestReceived(FriendRequest),
    /// A friend request changed: accepted or declined (by either side), or one this account
    /// sent from another device.
    FriendRequestUpdated(FriendRequest),
    /// The friends list changed (someone was added or removed); reload it with
    /// [`crate::Client::friends`].
    FriendsChanged,
    /// A group this account is in was created, renamed or changed members (its state after).
    GroupUpdated(Group),
    /// This account is no longer in the group: removed, left, or the group was dissolved.
    GroupLeft {
        group_id: String,
    },
    /// A friend came online or went offline.
    PresenceChanged {
        user_id: String,
        online: bool,
    },
    /// `user_id` is typing in `conversation_id` (1:1: the conversation is the user). Show it
    /// for a few seconds; typing is sent at most every 3 s while it goes on.
    Typing {
        conversation_id: String,
        user_id: String,
    },
    /// A message was removed from the store (a recalled notice).
    MessageRemoved {
        id: String,
        conversation_id: String,
    },
    /// A stored message was replaced by a fuller form of itself (after a core_level upgrade,
    /// a text fallback such as `[Sticker] Update Hongyan to see it` becomes the sticker).
    MessageUpdated(Message),
    /// The search index is being rebuilt (or is catching up with messages stored before a
    /// restart): `done` of `total` messages are indexed. The last one has `done == total`;
    /// see [`crate::Client::index_status`].
    IndexProgress {
        done: u64,
        total: u64,
    },
    /// An image message's files are uploading: `sent` of `total` bytes (thumbnail and image
    /// together; files the server already had count as sent). The envelope goes out after
    /// the last one, `sent == total`.
    UploadProgress {
        message_id: String,
        conversation_id: String,
        sent: u64,
        total: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn issue_5_events_serialize_as_type_and_data() {
        let cases = [
            (
                Event::PresenceChanged {
                    user_id: "7".into(),
                    online: true,
                },
                json!({"type":"presence_changed","data":{"user_id":"7","online":true}}),
            ),
            (
                Event::Typing {
                    conversation_id: "7".into(),
                    user_id: "7".into(),
                },
                json!({"type":"typing","data":{"conversation_id":"7","user_id":"7"}}),
            ),
            (
                Event::GroupLeft {
                    group_id: "g3".into(),
                },
                json!({"type":"group_left","data":{"group_id":"g3"}}),
            ),
            (
                Event::MessageRemoved {
                    id: "notice-4".into(),
                    conversation_id: "notices".into(),
                },
                json!({"type":"message_removed","data":{"id":"notice-4","conversation_id":"notices"}}),
            ),
            (Event::FriendsChanged, json!({"type":"friends_changed"})),
            (
                Event::IndexProgress {
                    done: 1000,
                    total: 2500,
                },
                json!({"type":"index_progress","data":{"done":1000,"total":2500}}),
            ),
            (
                Event::UploadProgress {
                    message_id: "m1".into(),
                    conversation_id: "7".into(),
                    sent: 10,
                    total: 40,
                },
                json!({"type":"upload_progress",
                       "data":{"message_id":"m1","conversation_id":"7","sent":10,"total":40}}),
            ),
        ];
        for (event, want) in cases {
            let got = serde_json::to_value(&event).expect("json");
            assert_eq!(got, want);
            assert_eq!(serde_json::from_value::<Event>(got).expect("back"), event);
        }
    }
}
