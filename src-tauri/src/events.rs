//! SDK [`Event`]s → Tauri events (names and payloads as in docs/IPC.md).

use hongyan_sdk::{Conversation, Event};
use serde_json::{json, Value};

pub const MESSAGE_RECEIVED: &str = "message-received";
pub const MESSAGE_STATUS: &str = "message-status";
pub const CONVERSATION_UPDATED: &str = "conversation-updated";
pub const CONNECTION_STATE: &str = "connection-state";
pub const KICKED_OUT: &str = "kicked-out";
pub const AUTH_EXPIRED: &str = "auth-expired";
pub const LOGIN_REJECTED: &str = "login-rejected";
pub const UNREAD_TOTAL: &str = "unread-total";
pub const OPEN_CONVERSATION: &str = "open-conversation";
pub const FRIEND_REQUEST: &str = "friend-request";
pub const FRIEND_REQUEST_UPDATED: &str = "friend-request-updated";
pub const FRIENDS_CHANGED: &str = "friends-changed";
pub const GROUP_UPDATED: &str = "group-updated";
pub const GROUP_LEFT: &str = "group-left";
pub const PRESENCE: &str = "presence";
pub const TYPING: &str = "typing";
pub const MESSAGE_REMOVED: &str = "message-removed";
pub const MESSAGE_UPDATED: &str = "message-updated";
pub const INDEX_PROGRESS: &str = "index-progress";
pub const UPLOAD_PROGRESS: &str = "upload-progress";
pub const UPDATE_AVAILABLE: &str = "update-available";
pub const UPDATE_PROGRESS: &str = "update-progress";
pub const UPDATE_INSTALLING: &str = "update-installing";

/// The IPC event for an SDK event: `(name, payload)`; `None` for events the UI does not
/// get (sync bookkeeping).
pub fn to_ipc(event: &Event) -> Option<(&'static str, Value)> {
    Some(match event {
        Event::MessageReceived(m) => (MESSAGE_RECEIVED, ser(m)),
        Event::MessageStatusChanged { id, status } => {
            (MESSAGE_STATUS, json!({ "id": id, "status": status }))
        }
        Event::ConversationUpdated(c) => (CONVERSATION_UPDATED, ser(c)),
        Event::ConnectionStateChanged(s) => (CONNECTION_STATE, ser(s)),
        Event::KickedOut { code, reason } => {
            (KICKED_OUT, json!({ "code": code, "reason": reason }))
        }
        Event::AuthExpired => (AUTH_EXPIRED, Value::Null),
        Event::LoginRejected { code, message } => {
            (LOGIN_REJECTED, json!({ "code": code, "message": message }))
        }
        Event::SyncCompleted { .. } => return None,
        Event::FriendRequestReceived(r) => (FRIEND_REQUEST, ser(r)),
        Event::FriendRequestUpdated(r) => (FRIEND_REQUEST_UPDATED, ser(r)),
        Event::FriendsChanged => (FRIENDS_CHANGED, Value::Null),
        Event::GroupUpdated(g) => (GROUP_UPDATED, ser(g)),
        Event::GroupLeft { group_id } => (GROUP_LEFT, json!({ "group_id": group_id })),
        Event::PresenceChanged { user_id, online } => {
            (PRESENCE, json!({ "user_id": user_id, "online": online }))
        }
        Event::Typing {
            conversation_id,
            user_id,
        } => (
            TYPING,
            json!({ "conversation_id": conversation_id, "user_id": user_id }),
        ),
        Event::MessageRemoved {
            id,
            conversation_id,
        } => (
            MESSAGE_REMOVED,
            json!({ "id": id, "conversation_id": conversation_id }),
        ),
        Event::MessageUpdated(m) => (MESSAGE_UPDATED, ser(m)),
        Event::IndexProgress { done, total } => {
            (INDEX_PROGRESS, json!({ "done": done, "total": total }))
        }
        Event::UploadProgress {
            message_id,
            conversation_id,
            sent,
            total,
        } => (
            UPLOAD_PROGRESS,
            json!({ "message_id": message_id, "conversation_id": conversation_id, "sent": sent, "total": total }),
        ),
        // The SDK's `Event` is non-exhaustive: a newer event the UI does not know yet.
        _ => return None,
    })
}

/// `unread-total` payload.
pub fn unread_total(total: u64) -> Value {
    json!({ "total": total })
}

/// `open-conversation` payload.
pub fn open_conversation(conversation_id: &str) -> Value {
    json!({ "conversation_id": conversation_id })
}

/// Per-conversation unread counts, to derive the total the tray and the UI show.
#[derive(Debug, Default)]
pub struct Unread {
    by_conversation: std::collections::HashMap<String, u32>,
}

impl Unread {
    /// Replaces everything (after login or a lagged event stream).
    pub fn reset(&mut self, conversations: &[Conversation]) -> u64 {
        self.by_conversation = conversations
            .iter()
            .filter(|c| c.unread > 0)
            .map(|c| (c.id.clone(), c.unread))
            .collect();
        self.total()
    }

    /// Applies one updated conversation; returns the new total.
    pub fn update(&mut self, c: &Conversation) -> u64 {
        if c.unread == 0 {
            self.by_conversation.remove(&c.id);
        } else {
            self.by_conversation.insert(c.id.clone(), c.unread);
        }
        self.total()
    }

    pub fn total(&self) -> u64 {
        self.by_conversation.values().map(|&n| u64::from(n)).sum()
    }
}

/// A payload as JSON (payloads are plain structs of strings and numbers: this never fails).
fn ser<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hongyan_sdk::model::{FriendRequest, FriendRequestStatus, Group};
    use hongyan_sdk::{ConnectionState, Message, MessageStatus, User};

    fn message() -> Message {
        let mut m = Message::new_outgoing("10002", "10001", 0, "你好 hi", 1_700_000_000_000);
        m.outgoing = false;
        m.status = MessageStatus::Received;
        m.conversation_id = "10002".into();
        m.seq = Some(7);
        m
    }

    fn conv(id: &str, unread: u32) -> Conversation {
        Conversation {
            id: id.into(),
            last_message_id: Some("m".into()),
            last_text: Some("hi".into()),
            last_at: 5,
            unread,
        }
    }

    #[test]
    fn events_map_to_the_documented_names_and_payloads() {
        let m = message();
        let (name, payload) = to_ipc(&Event::MessageReceived(m.clone())).expect("some");
        assert_eq!(name, "message-received");
        assert_eq!(payload["id"], m.id.as_str());
        assert_eq!(payload["conversation_id"], "10002");
        assert_eq!(payload["content"], "你好 hi");
        assert_eq!(payload["seq"], 7);
        assert_eq!(payload["status"], json!({"kind": "received"}));
        assert_eq!(payload["outgoing"], false);

        let (name, payload) = to_ipc(&Event::MessageStatusChanged {
            id: "a".into(),
            status: MessageStatus::Failed {
                code: 1101,
                reason: "no".into(),
            },
        })
        .expect("some");
        assert_eq!(name, "message-status");
        assert_eq!(
            payload,
            json!({"id": "a", "status": {"kind": "failed", "code": 1101, "reason": "no"}})
        );

        let (name, payload) = to_ipc(&Event::ConversationUpdated(conv("10002", 3))).expect("c");
        assert_eq!(name, "conversation-updated");
        assert_eq!(
            payload,
            json!({"id": "10002", "last_message_id": "m", "last_text": "hi", "last_at": 5, "unread": 3})
        );

        let cases = [
            (
                Event::ConnectionStateChanged(ConnectionState::Reconnecting {
                    attempt: 2,
                    in_ms: 1500,
                }),
                "connection-state",
                json!({"state": "reconnecting", "attempt": 2, "in_ms": 1500}),
            ),
            (
                Event::ConnectionStateChanged(ConnectionState::Connected),
                "connection-state",
                json!({"state": "connected"}),
            ),
            (
                Event::KickedOut {
                    code: 1,
                    reason: "elsewhere".into(),
                },
                "kicked-out",
                json!({"code": 1, "reason": "elsewhere"}),
            ),
            (Event::AuthExpired, "auth-expired", Value::Null),
            (
                Event::LoginRejected {
                    code: 1027,
                    message: "upgrade".into(),
                },
                "login-rejected",
                json!({"code": 1027, "message": "upgrade"}),
            ),
        ];
        for (event, want_name, want) in cases {
            assert_eq!(to_ipc(&event), Some((want_name, want)), "{event:?}");
        }
        assert_eq!(to_ipc(&Event::SyncCompleted { count: 3 }), None);
    }

    #[test]
    fn index_progress_maps_to_its_documented_payload() {
        assert_eq!(
            to_ipc(&Event::IndexProgress {
                done: 250,
                total: 1000
            }),
            Some(("index-progress", json!({"done": 250, "total": 1000})))
        );
    }

    #[test]
    fn upload_progress_maps_to_its_documented_payload() {
        assert_eq!(
            to_ipc(&Event::UploadProgress {
                message_id: "m1".into(),
                conversation_id: "10002".into(),
                sent: 4096,
                total: 16384,
            }),
            Some((
                "upload-progress",
                json!({"message_id": "m1", "conversation_id": "10002", "sent": 4096, "total": 16384})
            ))
        );
    }

    fn user(id: &str, name: &str) -> User {
        User {
            user_id: id.into(),
            username: name.into(),
            nickname: name.to_uppercase(),
        }
    }

    #[test]
    fn social_events_map_to_the_documented_names_and_payloads() {
        let request = FriendRequest {
            id: 7,
            from: user("10002", "bob"),
            to: user("10001", "alice"),
            message: "<b>hi</b>".into(),
            status: FriendRequestStatus::Pending,
            created_at: 5,
        };
        let mut request_json = json!({
            "id": 7,
            "from": {"user_id": "10002", "username": "bob", "nickname": "BOB"},
            "to": {"user_id": "10001", "username": "alice", "nickname": "ALICE"},
            "message": "<b>hi</b>", "status": "pending", "created_at": 5
        });
        let mut accepted = request.clone();
        accepted.status = FriendRequestStatus::Accepted;
        let group = Group {
            group_id: "g3".into(),
            name: "Trip".into(),
            owner: "10001".into(),
            member_count: 4,
            created_at: 9,
        };
        let cases = vec![
            (
                Event::FriendRequestReceived(request),
                "friend-request",
                request_json.clone(),
            ),
            (Event::FriendsChanged, "friends-changed", Value::Null),
            (
                Event::GroupUpdated(group),
                "group-updated",
                json!({"group_id": "g3", "name": "Trip", "owner": "10001", "member_count": 4, "created_at": 9}),
            ),
            (
                Event::GroupLeft {
                    group_id: "g3".into(),
                },
                "group-left",
                json!({"group_id": "g3"}),
            ),
            (
                Event::PresenceChanged {
                    user_id: "10002".into(),
                    online: true,
                },
                "presence",
                json!({"user_id": "10002", "online": true}),
            ),
            (
                Event::Typing {
                    conversation_id: "10002".into(),
                    user_id: "10002".into(),
                },
                "typing",
                json!({"conversation_id": "10002", "user_id": "10002"}),
            ),
            (
                Event::MessageRemoved {
                    id: "n-4".into(),
                    conversation_id: "notices".into(),
                },
                "message-removed",
                json!({"id": "n-4", "conversation_id": "notices"}),
            ),
        ];
        for (event, want_name, want) in cases {
            assert_eq!(to_ipc(&event), Some((want_name, want)), "{event:?}");
        }
        request_json["status"] = json!("accepted");
        assert_eq!(
            to_ipc(&Event::FriendRequestUpdated(accepted)),
            Some(("friend-request-updated", request_json))
        );
        let m = message();
        let (name, payload) = to_ipc(&Event::MessageUpdated(m.clone())).expect("some");
        assert_eq!(name, "message-updated");
        assert_eq!(payload["id"], m.id.as_str());
    }

    #[test]
    fn unread_total_follows_conversation_updates() {
        let mut u = Unread::default();
        assert_eq!(u.reset(&[conv("a", 2), conv("b", 0), conv("c", 1)]), 3);
        assert_eq!(u.update(&conv("b", 4)), 7);
        assert_eq!(u.update(&conv("a", 0)), 5);
        assert_eq!(u.update(&conv("c", 1)), 5);
        assert_eq!(unread_total(5), json!({"total": 5}));
        assert_eq!(
            open_conversation("10002"),
            json!({"conversation_id": "10002"})
        );
    }
}
