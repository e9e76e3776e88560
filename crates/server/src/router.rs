//! Chat routing: validate a type-2 frame, store it, ACK the sender, forward to the
//! recipients (one user, or every member of a group).
//!
//! The store answers only after commit, and the ACK is built from that answer, so an ACK
//! always means "durably stored". A resend of a stored `(from, fp)` is ACKed again but is
//! neither stored nor delivered a second time.

use hongyan_protocol::{
    api::parse_group_id, codes, envelope::is_group_id, kinds, ClientVersion, Envelope,
    ErrorResponse, SERVER_ID,
};

use std::time::Instant;

use crate::{
    accounts::server_fp,
    metrics::{message_kind, Metrics},
    store::{fanout::NewGroupChat, ChatOutcome, Delivery, NewChat, Store, StoreError},
};

/// What the connection should do after a chat frame.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ChatResult {
    /// Goes back to the sender first (ACK or error).
    pub reply: Option<Envelope>,
    /// Then each of these goes to its user if online.
    pub forwards: Vec<Delivery>,
    /// When the store answered for a newly stored message (start of delivery latency).
    pub stored_at: Option<Instant>,
}

impl ChatResult {
    fn reply(env: Envelope) -> Self {
        Self {
            reply: Some(env),
            ..Self::default()
        }
    }
}

fn error(to: i64, code: i32, msg: &str, fp: Option<String>) -> ChatResult {
    ChatResult::reply(Envelope::error(
        to.to_string(),
        &ErrorResponse::new(code, msg, fp),
    ))
}

/// Kinds only the server writes (events, notice and presence signals).
fn server_only(typeu: i32) -> bool {
    matches!(
        typeu,
        kinds::FRIEND_EVENT
            | kinds::GROUP_EVENT
            | kinds::BROADCAST_NOTIFY
            | kinds::BROADCAST_RECALL
            | kinds::PRESENCE
    )
}

fn store_failed(user_id: i64, e: &StoreError, fp: Option<String>) -> ChatResult {
    match e {
        StoreError::NoSuchUser => error(
            user_id,
            codes::ERR_NO_SUCH_RECIPIENT,
            "no such recipient",
            fp,
        ),
        StoreError::NotAllowed => error(
            user_id,
            codes::ERR_NOT_ALLOWED,
            "not allowed: you are not friends with the recipient or not a member of the group",
            fp,
        ),
        e => {
            tracing::warn!(user = user_id, error = %e, "storing a chat message failed");
            error(
                user_id,
                codes::ERR_SERVER_BUSY,
                "the server could not store the message; resend later",
                fp,
            )
        }
    }
}

/// Handles one type-2 frame (other than typing) from logged-in user `user_id`.
/// `friends_only`: 1:1 chat needs friendship (policy flag).
pub async fn route_chat(
    store: &Store,
    metrics: &Metrics,
    friends_only: bool,
    user_id: i64,
    env: Envelope,
) -> ChatResult {
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
    if server_only(env.typeu) {
        let msg = format!("typeu {} is sent by the server only", env.typeu);
        return error(user_id, codes::ERR_NOT_ALLOWED, &msg, fp);
    }
    if is_group_id(&env.to) {
        return route_group_chat(store, metrics, user_id, env, fp).await;
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
    let stored = metrics
        .time_store(
            "store_chat",
            store.store_chat(NewChat {
                from: user_id,
                to,
                fp: msg_fp.clone(),
                typeu: env.typeu,
                content: env.data_content.clone().unwrap_or_default(),
                friends_only,
            }),
        )
        .await;
    let outcome = match stored {
        Ok(o) => o,
        Err(e) => return store_failed(user_id, &e, fp),
    };
    let reply = env
        .qos
        .then(|| Envelope::ack(env.to.clone(), user_id.to_string(), msg_fp.clone()));
    let stored_at = matches!(outcome, ChatOutcome::Stored { .. }).then(|| {
        metrics.message_stored(message_kind(&env.to, env.typeu));
        Instant::now()
    });
    let forwards = match outcome {
        ChatOutcome::Duplicate { .. } => {
            tracing::debug!(user = user_id, "duplicate fp acknowledged again");
            Vec::new()
        }
        ChatOutcome::Stored { seq, sm } if to != user_id => {
            vec![(to, forward_of(&env, &msg_fp, seq, sm))]
        }
        ChatOutcome::Stored { .. } => Vec::new(),
    };
    ChatResult {
        reply,
        forwards,
        stored_at,
    }
}

fn forward_of(env: &Envelope, fp: &str, seq: i64, sm: i64) -> Envelope {
    let mut out = Envelope::chat(
        env.from.clone(),
        env.to.clone(),
        fp,
        env.typeu,
        env.data_content.clone().unwrap_or_default(),
    );
    out.sm = sm;
    out.seq = Some(seq);
    out
}

/// A message to `g<id>`: membership check and fan-out on write, then one forward per
/// other member, each with that member's own seq. The sender's copy is stored for its
/// other devices and sync, like a 1:1 own copy, and not pushed back.
async fn route_group_chat(
    store: &Store,
    metrics: &Metrics,
    user_id: i64,
    env: Envelope,
    fp: Option<String>,
) -> ChatResult {
    if env.typeu == kinds::RECEIPT {
        return error(
            user_id,
            codes::ERR_NOT_ALLOWED,
            "groups get no receipts",
            fp,
        );
    }
    let Some(group_id) = parse_group_id(&env.to) else {
        return error(user_id, codes::ERR_NOT_ALLOWED, "no such group", fp);
    };
    let msg_fp = fp.clone().unwrap_or_else(server_fp);
    let stored = metrics
        .time_store(
            "store_group_chat",
            store.store_group_chat(NewGroupChat {
                from: user_id,
                group_id,
                fp: msg_fp.clone(),
                typeu: env.typeu,
                content: env.data_content.clone().unwrap_or_default(),
            }),
        )
        .await;
    let stored = match stored {
        Ok(s) => s,
        Err(e) => return store_failed(user_id, &e, fp),
    };
    let reply = env
        .qos
        .then(|| Envelope::ack(env.to.clone(), user_id.to_string(), msg_fp.clone()));
    let stored_at = matches!(stored.outcome, ChatOutcome::Stored { .. }).then(|| {
        metrics.message_stored(message_kind(&env.to, env.typeu));
        Instant::now()
    });
    let sm = stored.outcome.sm();
    let forwards = stored
        .copies
        .into_iter()
        .filter(|(member, _)| *member != user_id)
        .map(|(member, seq)| (member, forward_of(&env, &msg_fp, seq, sm)))
        .collect();
    ChatResult {
        reply,
        forwards,
        stored_at,
    }
}

/// What a recipient running `version` gets for `env`: unchanged if its core understands
/// the kind; else typeu 1 with the kind's text fallback (the stored original is untouched
/// and arrives in full once the user runs a newer client). `None` for a signal with no
/// readable form (receipt, presence, typing) that such a client should not see at all.
pub fn adapt_for_client(mut env: Envelope, version: &ClientVersion) -> Option<Envelope> {
    if version.supports(kinds::min_core_level(env.typeu)) {
        return Some(env);
    }
    let fallback = kinds::text_fallback(env.typeu);
    if fallback.is_empty() {
        return None;
    }
    env.typeu = kinds::TEXT;
    env.data_content = Some(fallback.to_owned());
    Some(env)
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
        let metrics = Metrics::new();
        let r = route_chat(&store, &metrics, false, a, msg.clone()).await;
        assert!(r.stored_at.is_some());
        let ack = r.reply.expect("ack");
        assert_eq!(ack.packet_type, PacketType::Ack);
        assert_eq!(ack.from, b.to_string());
        assert_eq!(ack.data_content.as_deref(), Some("fp1"));
        let (to, fwd) = r.forwards.into_iter().next().expect("forward");
        assert_eq!(to, b);
        assert_eq!(
            (fwd.seq, fwd.qos, fwd.fp.as_deref()),
            (Some(1), true, Some("fp1"))
        );
        assert!(fwd.sm > 0);
        let again = route_chat(&store, &metrics, false, a, msg).await;
        assert!(again.reply.is_some());
        assert!(again.forwards.is_empty());
        assert!(
            again.stored_at.is_none(),
            "a duplicate is not a new message"
        );
        let text = metrics.encode(|_| 0);
        assert!(
            text.contains("hongyan_messages_total{kind=\"c2c\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("hongyan_store_seconds_count{op=\"store_chat\"} 2\n"));
    }

    #[tokio::test]
    async fn rejects_spoofed_unknown_and_group_targets() {
        let (_d, store, a, b) = setup().await;
        let spoof = Envelope::chat(b.to_string(), a.to_string(), "f", 1, "x");
        assert_eq!(
            code_of(&route_chat(&store, &Metrics::new(), false, a, spoof).await),
            1105
        );
        let nobody = Envelope::chat(a.to_string(), "99999", "f", 1, "x");
        let r = route_chat(&store, &Metrics::new(), false, a, nobody).await;
        assert_eq!(code_of(&r), 1107);
        let err: ErrorResponse = r.reply.expect("r").payload().expect("p");
        assert_eq!(err.fp.as_deref(), Some("f"));
        let junk = Envelope::chat(a.to_string(), "bob", "f", 1, "x");
        assert_eq!(
            code_of(&route_chat(&store, &Metrics::new(), false, a, junk).await),
            1107
        );
        let group = Envelope::chat(a.to_string(), "g12", "f", 1, "x");
        assert_eq!(
            code_of(&route_chat(&store, &Metrics::new(), false, a, group).await),
            1101
        );
        let mut c2s = Envelope::new(PacketType::CommonData, a.to_string(), "0");
        c2s.data_content = Some("x".into());
        assert_eq!(
            route_chat(&store, &Metrics::new(), false, a, c2s).await,
            ChatResult::default()
        );
    }

    #[test]
    fn adapt_downgrades_only_what_the_level_predates() {
        let at = |level| ClientVersion {
            core_level: level,
            ..ClientVersion::default()
        };
        let sticker = Envelope::chat("1", "2", "f", kinds::STICKER, "{}");
        let old = adapt_for_client(sticker.clone(), &at(261_130)).expect("fallback");
        assert_eq!(
            (old.typeu, old.data_content.as_deref()),
            (kinds::TEXT, Some(kinds::text_fallback(kinds::STICKER)))
        );
        assert_eq!(old.fp.as_deref(), Some("f"));
        assert_eq!(
            adapt_for_client(sticker.clone(), &at(261_201)),
            Some(sticker)
        );
        let event = Envelope::chat("0", "2", "s-1", kinds::FRIEND_EVENT, "{}");
        assert_eq!(
            adapt_for_client(event, &at(0)).map(|e| e.typeu),
            Some(kinds::TEXT)
        );
        let receipt = Envelope::chat("1", "2", "r", kinds::RECEIPT, "{}");
        assert_eq!(adapt_for_client(receipt.clone(), &at(0)), None);
        assert_eq!(
            adapt_for_client(receipt.clone(), &at(261_124)),
            Some(receipt)
        );
        let text = Envelope::chat("1", "2", "t", kinds::TEXT, "hi");
        assert_eq!(adapt_for_client(text.clone(), &at(0)), Some(text));
    }
}
