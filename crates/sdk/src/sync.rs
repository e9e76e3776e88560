//! Offline sync: the mailbox seq cursor and HTTP paging (`GET /api/v1/sync?after=`), plus
//! [`ingest`], the one place that turns server envelopes into stored messages (used for
//! live pushes and sync pages alike).

use hongyan_protocol::{kinds, Envelope, PacketType};
use serde::Deserialize;

use crate::engine::Session;
use crate::error::Result;
use crate::events::Event;
use crate::model::{Conversation, Message, MessageStatus};
use crate::store::Store;

/// Page size asked of the server.
pub const PAGE_SIZE: u32 = 200;

/// What storing a batch of envelopes changed.
#[derive(Debug, Default)]
pub struct Ingested {
    /// New messages from others, in arrival order.
    pub received: Vec<Message>,
    /// Own messages whose status moved (a sync copy before the ACK, receipts).
    pub status_changed: Vec<Message>,
    /// Conversations touched by new messages, after the change.
    pub conversations: Vec<Conversation>,
    /// Highest `seq` in the batch.
    pub max_seq: Option<i64>,
}

#[derive(Deserialize)]
struct Receipt {
    kind: String,
    #[serde(default)]
    ids: Vec<String>,
}

/// Stores chat envelopes as seen by account `me` (dedupe by id = fp) in one transaction,
/// applies receipts (typeu 90) to own messages and marks own sync copies Sent.
pub fn ingest(store: &Store, me: &str, envs: &[Envelope], now_ms: i64) -> Result<Ingested> {
    let mut out = Ingested {
        max_seq: envs.iter().filter_map(|e| e.seq).max(),
        ..Ingested::default()
    };
    let mut batch = Vec::new();
    for env in envs
        .iter()
        .filter(|e| e.packet_type == PacketType::CommonData)
    {
        if env.typeu == kinds::RECEIPT && env.from != me {
            let Some(r) = env
                .data_content
                .as_deref()
                .and_then(|c| serde_json::from_str::<Receipt>(c).ok())
            else {
                tracing::debug!("ignoring an unreadable receipt");
                continue;
            };
            let status = match r.kind.as_str() {
                "read" => MessageStatus::Read,
                _ => MessageStatus::Delivered,
            };
            for id in &r.ids {
                if let Some(m) = store.advance_status(id, &status)? {
                    out.status_changed.push(m);
                }
            }
            continue;
        }
        let mut env = env.clone();
        if env.fp.as_deref().is_none_or(str::is_empty) {
            // Not QoS: no id from the sender; give it one so it can be stored.
            env.fp = Some(uuid::Uuid::now_v7().to_string());
        }
        if let Some(m) = Message::from_envelope(&env, me, now_ms) {
            batch.push(m);
        }
    }
    let fresh = store.insert_messages(&batch)?;
    for m in batch.iter().filter(|m| m.outgoing) {
        // The server has it (it is in our mailbox): same as an ACK.
        if let Some(changed) = store.ack(&m.id)? {
            out.status_changed.push(changed);
        }
    }
    let mut touched: Vec<&str> = Vec::new();
    for m in &fresh {
        if !touched.contains(&m.conversation_id.as_str()) {
            touched.push(&m.conversation_id);
        }
    }
    for id in touched {
        if let Some(c) = store.conversation(id)? {
            out.conversations.push(c);
        }
    }
    out.received = fresh.into_iter().filter(|m| !m.outgoing).collect();
    Ok(out)
}

/// Emits the events for an ingest result.
pub(crate) fn emit(session: &Session, ingested: &Ingested) {
    for m in &ingested.status_changed {
        session.emit(Event::MessageStatusChanged {
            id: m.id.clone(),
            status: m.status.clone(),
        });
    }
    for m in &ingested.received {
        session.emit(Event::MessageReceived(m.clone()));
    }
    for c in &ingested.conversations {
        session.emit(Event::ConversationUpdated(c.clone()));
    }
}

/// Pages `GET /sync?after=<cursor>` until `more=false`, storing each page and advancing
/// the persisted cursor. Returns the number of new messages from others.
pub(crate) async fn run(session: &Session) -> Result<usize> {
    let _one_at_a_time = session.sync_lock.lock().await;
    let mut total = 0;
    loop {
        let after = session.store.call(|s| s.sync_cursor()).await?;
        let page = session.http.sync(&session.token, after, PAGE_SIZE).await?;
        let envs = page.envelopes();
        let me = session.user_id.clone();
        let ingested = session
            .store
            .call(move |s| {
                let r = ingest(s, &me, &envs, hongyan_protocol::now_ms())?;
                if let Some(seq) = r.max_seq {
                    s.advance_sync_cursor(seq)?;
                }
                Ok(r)
            })
            .await?;
        total += ingested.received.len();
        emit(session, &ingested);
        let progressed = ingested.max_seq.is_some_and(|m| m > after);
        if !page.more || !progressed {
            break;
        }
    }
    tracing::debug!(new = total, "sync completed");
    session.emit(Event::SyncCompleted { count: total });
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(from: &str, to: &str, fp: &str, seq: i64, typeu: i32, content: &str) -> Envelope {
        let mut e = Envelope::chat(from, to, fp, typeu, content);
        e.sm = 1000 + seq;
        e.seq = Some(seq);
        e
    }

    #[test]
    fn ingest_dedupes_and_reports_only_new_messages() {
        let s = Store::open_in_memory().expect("open");
        let envs = [
            push("7", "5", "a", 1, 1, "hi"),
            push("7", "5", "b", 2, 1, "there"),
        ];
        let r = ingest(&s, "5", &envs, 0).expect("ingest");
        assert_eq!(r.received.len(), 2);
        assert_eq!(r.max_seq, Some(2));
        assert_eq!(r.conversations.len(), 1);
        assert_eq!(r.conversations[0].unread, 2);
        let again = ingest(&s, "5", &envs, 0).expect("again");
        assert!(again.received.is_empty() && again.conversations.is_empty());
        assert_eq!(s.conversation("7").expect("q").expect("c").unread, 2);
    }

    #[test]
    fn own_sync_copies_do_not_duplicate_and_count_as_acks() {
        let s = Store::open_in_memory().expect("open");
        let mine = Message::new_outgoing("5", "7", 1, "mine", 10);
        s.insert_outgoing(&mine, 10).expect("out");
        let copy = push("5", "7", &mine.id, 3, 1, "mine");
        let r = ingest(&s, "5", &[copy], 0).expect("ingest");
        assert!(r.received.is_empty());
        assert_eq!(r.status_changed.len(), 1);
        assert_eq!(r.status_changed[0].status, MessageStatus::Sent);
        assert_eq!(s.message_count().expect("n"), 1);
        assert!(s.outbox().expect("o").is_empty());
        // An own message sent from another device is stored as outgoing, no unread.
        let other_device = push("5", "8", "dev2", 4, 1, "from my phone");
        let r = ingest(&s, "5", &[other_device], 0).expect("ingest");
        assert!(r.received.is_empty());
        let c = s.conversation("8").expect("q").expect("c");
        assert_eq!(c.unread, 0);
    }

    #[test]
    fn receipts_update_own_messages_and_are_not_stored() {
        let s = Store::open_in_memory().expect("open");
        let mine = Message::new_outgoing("5", "7", 1, "x", 10);
        s.insert_outgoing(&mine, 10).expect("out");
        s.ack(&mine.id).expect("ack");
        let body = format!(r#"{{"kind":"read","ids":["{}"],"by":"7"}}"#, mine.id);
        let r = ingest(
            &s,
            "5",
            &[push("7", "5", "rcpt", 9, kinds::RECEIPT, &body)],
            0,
        )
        .expect("i");
        assert_eq!(r.status_changed[0].status, MessageStatus::Read);
        assert_eq!(s.message_count().expect("n"), 1);
        assert_eq!(r.max_seq, Some(9));
    }
}
