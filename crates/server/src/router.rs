//! Chat routing: validate a type-2 frame, store it, ACK the sender, forward to the recipient.
//!
//! The store answers only after commit, and the ACK is built from that answer, so an ACK
//! always means "durably stored". A resend of a stored `(from, fp)` is ACKed again but is
//! neither stored nor delivered a second time.

use hongyan_protocol::{
    codes, envelope::is_group_id, ClientVersion, Envelope, ErrorResponse, SERVER_ID,
};

use crate::{
    accounts::server_fp,
    store::{ChatOutcome, NewChat, Store, StoreError},
};

/// What the connection should do after a chat frame.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ChatResult {
    /// Goes back to the sender first (ACK or error).
    pub reply: Option<Envelope>,
    /// Then this goes to the recipient (user id) if it is online.
    pub forward: Option<(i64, Envelope)>,
}

impl ChatResult {
    fn reply(env: Envelope) -> Self {
        Self {
            reply: Some(env),
            forward: None,
        }
    }
}

fn error(to: i64, code: i32, msg: &str, fp: Option<String>) -> ChatResult {
    ChatResult::reply(Envelope::error(
        to.to_string(),
        &ErrorResponse::new(code, msg, fp),
    ))
}

/// Handles one type-2 frame from logged-in user `user_id`.
pub async fn route_chat(store: &Store, user_id: i64, env: Envelope) -> ChatResult {
    let fp = env.fp.clone().filter(|f| !f.is_empty());
    if env.from != user_id.to_string() {
        return error(
            user_id,
            codes::ERR_SPOOFED_FROM,
            "from does not match the logged-in user",
            fp,
        );
    }
    if env.to == SERVER_ID {
        // C2S data: nothing handles it yet. Honour QoS so the client stops resending.
        tracing::debug!(user = user_id, qos = env.qos, "c2s data dropped");
        return match (env.qos, fp) {
            (true, Some(fp)) => {
                ChatResult::reply(Envelope::ack(SERVER_ID, user_id.to_string(), fp))
            }
            _ => ChatResult::default(),
        };
    }
    if is_group_id(&env.to) {
        return error(
            user_id,
            codes::ERR_NOT_ALLOWED,
            "group messages are not supported yet",
            fp,
        );
    }
    let Some(to) = env.to.parse::<i64>().ok().filter(|id| *id > 0) else {
        return error(
            user_id,
            codes::ERR_NO_SUCH_RECIPIENT,
            "no such recipient",
            fp,
        );
    };
    let msg_fp = fp.clone().unwrap_or_else(server_fp);
    let stored = store
        .store_chat(NewChat {
            from: user_id,
            to,
            fp: msg_fp.clone(),
            typeu: env.typeu,
            content: env.data_content.clone().unwrap_or_default(),
        })
        .await;
    let outcome = match stored {
        Ok(o) => o,
        Err(StoreError::NoSuchUser) => {
            return error(
                user_id,
                codes::ERR_NO_SUCH_RECIPIENT,
                "no such recipient",
                fp,
            )
        }
        Err(e) => {
            tracing::warn!(user = user_id, error = %e, "storing a chat message failed");
            return error(
                user_id,
                codes::ERR_SERVER_BUSY,
                "the server could not store the message; resend later",
                fp,
            );
        }
    };
    let reply = env
        .qos
        .then(|| Envelope::ack(env.to.clone(), user_id.to_string(), msg_fp.clone()));
    let forward = match outcome {
        ChatOutcome::Duplicate { .. } => {
            tracing::debug!(user = user_id, "duplicate fp acknowledged again");
            None
        }
        ChatOutcome::Stored { seq, sm } if to != user_id => {
            let mut out = Envelope::chat(
                env.from.clone(),
                env.to.clone(),
                msg_fp,
                env.typeu,
                env.data_content.clone().unwrap_or_default(),
            );
            out.sm = sm;
            out.seq = Some(seq);
            Some((to, out))
        }
        ChatOutcome::Stored { .. } => None,
    };
    ChatResult { reply, forward }
}

/// Hook for version-aware delivery: turns a stored message into what a recipient running
/// `version` can show. Today every kind goes out unchanged; the core_level downgrade
/// (PROTOCOL.md "Application kinds") plugs in here for both push and sync.
pub fn adapt_for_client(env: Envelope, version: &ClientVersion) -> Envelope {
    let _ = version;
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use hongyan_protocol::PacketType;

    async fn setup() -> (tempfile::TempDir, Store, i64, i64) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let a = store
            .create_user("alice".into(), "a".into(), "h".into())
            .await
            .expect("a");
        let b = store
            .create_user("bob".into(), "b".into(), "h".into())
            .await
            .expect("b");
        (dir, store, a, b)
    }

    fn code_of(r: &ChatResult) -> i32 {
        let env = r.reply.as_ref().expect("reply");
        assert_eq!(env.packet_type, PacketType::Error);
        env.payload::<ErrorResponse>().expect("error").error_code
    }

    #[tokio::test]
    async fn stores_acks_and_forwards_once() {
        let (_d, store, a, b) = setup().await;
        let msg = Envelope::chat(a.to_string(), b.to_string(), "fp1", 1, "hi");
        let r = route_chat(&store, a, msg.clone()).await;
        let ack = r.reply.expect("ack");
        assert_eq!(ack.packet_type, PacketType::Ack);
        assert_eq!(ack.from, b.to_string());
        assert_eq!(ack.data_content.as_deref(), Some("fp1"));
        let (to, fwd) = r.forward.expect("forward");
        assert_eq!(to, b);
        assert_eq!(
            (fwd.seq, fwd.qos, fwd.fp.as_deref()),
            (Some(1), true, Some("fp1"))
        );
        assert!(fwd.sm > 0);
        let again = route_chat(&store, a, msg).await;
        assert!(again.reply.is_some());
        assert!(again.forward.is_none());
    }

    #[tokio::test]
    async fn rejects_spoofed_unknown_and_group_targets() {
        let (_d, store, a, b) = setup().await;
        let spoof = Envelope::chat(b.to_string(), a.to_string(), "f", 1, "x");
        assert_eq!(code_of(&route_chat(&store, a, spoof).await), 1105);
        let nobody = Envelope::chat(a.to_string(), "99999", "f", 1, "x");
        let r = route_chat(&store, a, nobody).await;
        assert_eq!(code_of(&r), 1107);
        let err: ErrorResponse = r.reply.expect("r").payload().expect("p");
        assert_eq!(err.fp.as_deref(), Some("f"));
        let junk = Envelope::chat(a.to_string(), "bob", "f", 1, "x");
        assert_eq!(code_of(&route_chat(&store, a, junk).await), 1107);
        let group = Envelope::chat(a.to_string(), "g12", "f", 1, "x");
        assert_eq!(code_of(&route_chat(&store, a, group).await), 1101);
        let mut c2s = Envelope::new(PacketType::CommonData, a.to_string(), "0");
        c2s.data_content = Some("x".into());
        assert_eq!(route_chat(&store, a, c2s).await, ChatResult::default());
    }
}
