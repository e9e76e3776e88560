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
        // Issue-5 events (friends, groups, presence, typing, notices) are wired by the app
        // separately; the SDK's `Event` is non-exhaustive.
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
    use hongyan_sdk::{ConnectionState, Message, MessageStatus};

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
