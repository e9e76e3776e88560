//! Offline sync: the mailbox seq cursor and HTTP paging (`GET /api/v1/sync?after=`), plus
//! [`ingest`], the one place that turns server envelopes into stored messages (used for
//! live pushes and sync pages alike).

use hongyan_protocol::api::{FriendEvent, GroupEvent, Receipt, ReceiptKind};
use hongyan_protocol::{kinds, Envelope, PacketType};

use crate::engine::{Command, Session};
use crate::error::Result;
use crate::events::Event;
use crate::model::{Conversation, Message, MessageStatus};
use crate::store::Store;

/// Page size asked of the server.
pub const PAGE_SIZE: u32 = 200;

/// `sync_state` key: the lowest mailbox seq that arrived as a text fallback of a kind this
/// client's core_level could not show.
const FALLBACK_KEY: &str = "fallback_from";
/// `sync_state` key: the core_level of the last sync run.
const LEVEL_KEY: &str = "core_level";

/// What storing a batch of envelopes changed.
#[derive(Debug, Default)]
pub struct Ingested {
    /// New messages from others (group system lines included), in arrival order.
    pub received: Vec<Message>,
    /// Own messages whose status moved (a sync copy before the ACK, receipts).
    pub status_changed: Vec<Message>,
    /// Text fallbacks replaced by the full message (after a core_level upgrade).
    pub upgraded: Vec<Message>,
    /// Conversations touched by new messages, after the change.
    pub conversations: Vec<Conversation>,
    /// Friend and group events, in order.
    pub social: Vec<Event>,
    /// Receipts queued in the outbox by this batch, to put on the wire now.
    pub outbound: Vec<Envelope>,
    /// Highest `seq` in the batch.
    pub max_seq: Option<i64>,
}

/// Stores chat envelopes as seen by account `me` (dedupe by id = fp) and applies
/// everything else they carry: receipts (typeu 90) move own messages forward, friend events
/// (60) update the caches once per fp, group events (61) are stored and update the groups
/// cache, own sync copies count as ACKs, and each sender of new 1:1 messages gets one
/// `delivered` receipt queued in the outbox.
pub fn ingest(store: &Store, me: &str, envs: &[Envelope], now_ms: i64) -> Result<Ingested> {
    let mut out = Ingested {
        max_seq: envs.iter().filter_map(|e| e.seq).max(),
        ..Ingested::default()
    };
    let mut batch = Vec::new();
    let mut qos_ids = std::collections::HashSet::new();
    for env in envs
        .iter()
        .filter(|e| e.packet_type == PacketType::CommonData)
    {
        match env.typeu {
            kinds::RECEIPT => {
                apply_receipt(store, me, env, &mut out)?;
                continue;
            }
            kinds::FRIEND_EVENT => {
                apply_friend_event(store, me, env, now_ms, &mut out)?;
                continue;
            }
            t if kinds::is_transient(t) => continue,
            _ => {}
        }
        let mut env = env.clone();
        if env.fp.as_deref().is_none_or(str::is_empty) {
            // Not QoS: no id from the sender; give it one so it can be stored.
            env.fp = Some(uuid::Uuid::now_v7().to_string());
        } else if env.qos {
            qos_ids.extend(env.fp.clone());
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
    for m in batch
        .iter()
        .filter(|m| !m.outgoing && !kinds::is_text(m.typeu))
    {
        if !fresh.iter().any(|f| f.id == m.id) {
            if let Some(full) = store.upgrade_fallback(m)? {
                out.upgraded.push(full);
            }
        }
    }
    let mut delivered = Vec::new();
    let mut touched: Vec<&str> = Vec::new();
    for m in &fresh {
        if !touched.contains(&m.conversation_id.as_str()) {
            touched.push(&m.conversation_id);
        }
        if m.typeu == kinds::GROUP_EVENT {
            match serde_json::from_str::<GroupEvent>(&m.content) {
                Ok(ev) => out
                    .social
                    .push(crate::social::apply_group_event(store, me, &ev)?),
                Err(e) => tracing::warn!(error = %e, "unreadable group event"),
            }
        }
        if m.wants_receipts() && qos_ids.contains(&m.id) {
            delivered.push((m.from.clone(), m.id.clone()));
        }
        if let (Some(seq), false) = (m.seq, m.outgoing) {
            if is_fallback(m) {
                note_fallback(store, seq)?;
            }
        }
    }
    for id in touched {
        if let Some(c) = store.conversation(id)? {
            out.conversations.push(c);
        }
    }
    out.outbound = crate::receipts::envelopes(me, ReceiptKind::Delivered, &delivered);
    store.queue_signals(&out.outbound, now_ms)?;
    out.received = fresh.into_iter().filter(|m| !m.outgoing).collect();
    Ok(out)
}

fn apply_receipt(store: &Store, me: &str, env: &Envelope, out: &mut Ingested) -> Result<()> {
    if env.from == me {
        // Our own receipt coming back by sync: the server has it. Never a message.
        if let Some(fp) = env.fp.as_deref() {
            store.ack(fp)?;
        }
        return Ok(());
    }
    let Some(r) = env
        .data_content
        .as_deref()
        .and_then(|c| serde_json::from_str::<Receipt>(c).ok())
    else {
        tracing::debug!("ignoring an unreadable receipt");
        return Ok(());
    };
    let status = match r.kind {
        ReceiptKind::Read => MessageStatus::Read,
        ReceiptKind::Delivered => MessageStatus::Delivered,
    };
    for id in &r.ids {
        if let Some(m) = store.advance_status(id, &status)? {
            out.status_changed.push(m);
        }
    }
    Ok(())
}

fn apply_friend_event(
    store: &Store,
    me: &str,
    env: &Envelope,
    now_ms: i64,
    out: &mut Ingested,
) -> Result<()> {
    let Some(ev) = env
        .data_content
        .as_deref()
        .and_then(|c| serde_json::from_str::<FriendEvent>(c).ok())
    else {
        tracing::warn!("ignoring an unreadable friend event");
        return Ok(());
    };
    // Live and again by sync: apply once.
    let first = match env.fp.as_deref() {
        Some(fp) => store.first_sighting(fp, now_ms)?,
        None => true,
    };
    if first {
        out.social
            .extend(crate::social::apply_friend_event(store, me, &ev, now_ms)?);
    }
    Ok(())
}

/// Kinds whose text fallback an older core may have stored.
const FALLBACK_KINDS: [i32; 7] = [
    kinds::IMAGE,
    kinds::STICKER,
    kinds::RECALL,
    kinds::FRIEND_EVENT,
    kinds::GROUP_EVENT,
    kinds::BROADCAST_NOTIFY,
    i32::MAX, // "[Unsupported message] …"
];

/// Whether a received text is the server's fallback for a kind this core could not show.
pub(crate) fn is_fallback(m: &Message) -> bool {
    kinds::is_text(m.typeu)
        && FALLBACK_KINDS
            .iter()
            .any(|k| kinds::text_fallback(*k) == m.content)
}

fn note_fallback(store: &Store, seq: i64) -> Result<()> {
    match state_num(store, FALLBACK_KEY)? {
        Some(from) if from <= seq => Ok(()),
        _ => store.set_state(FALLBACK_KEY, &seq.to_string()),
    }
}

fn state_num(store: &Store, key: &str) -> Result<Option<i64>> {
    Ok(store.state(key)?.and_then(|v| v.parse().ok()))
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
    for m in &ingested.upgraded {
        session.emit(Event::MessageUpdated(m.clone()));
    }
    for c in &ingested.conversations {
        session.emit(Event::ConversationUpdated(c.clone()));
    }
    for e in &ingested.social {
        session.emit(e.clone());
    }
}

/// Pages `GET /sync?after=<cursor>` until `more=false`, storing each page and advancing
/// the persisted cursor. Returns the number of new messages from others.
///
/// After a core_level upgrade it first pages again from the oldest message that arrived as
/// a text fallback, so those messages are replaced by their full form.
pub(crate) async fn run(session: &Session) -> Result<usize> {
    let _one_at_a_time = session.sync_lock.lock().await;
    let mut total = 0;
    let level = i64::from(session.core_level);
    let (fallback, last_level) = session
        .store
        .call(move |s| {
            let r = (state_num(s, FALLBACK_KEY)?, state_num(s, LEVEL_KEY)?);
            s.set_state(LEVEL_KEY, &level.to_string())?;
            Ok(r)
        })
        .await?;
    if let (Some(from), Some(last)) = (fallback, last_level) {
        if level > last {
            tracing::info!(
                from,
                "core_level upgraded: fetching full forms of fallbacks"
            );
            total += pull(session, Some(from - 1)).await?;
            session
                .store
                .call(|s| s.set_state(FALLBACK_KEY, ""))
                .await?;
        }
    }
    total += pull(session, None).await?;
    tracing::debug!(new = total, "sync completed");
    session.emit(Event::SyncCompleted { count: total });
    Ok(total)
}

/// Pages from `start` (default: the stored cursor) to the end of the mailbox.
async fn pull(session: &Session, start: Option<i64>) -> Result<usize> {
    let mut total = 0;
    let mut after = match start {
        Some(a) => a,
        None => session.store.call(|s| s.sync_cursor()).await?,
    };
    loop {
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
        for env in &ingested.outbound {
            let _ = session.commands.send(Command::Send(env.clone()));
        }
        let progressed = ingested.max_seq.is_some_and(|m| m > after);
        if !page.more || !progressed {
            break;
        }
        after = ingested.max_seq.unwrap_or(after);
    }
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

    #[test]
    fn new_1_1_messages_queue_one_delivered_receipt_per_sender() {
        let s = Store::open_in_memory().expect("open");
        let envs = [
            push("7", "5", "a", 1, 1, "one"),
            push("7", "5", "b", 2, 1, "two"),
            push("8", "5", "c", 3, 1, "three"),
            push("8", "g4", "d", 4, 1, "group: no receipt"),
        ];
        let r = ingest(&s, "5", &envs, 0).expect("ingest");
        let receipts: Vec<(String, Receipt)> = r
            .outbound
            .iter()
            .map(|e| {
                let body = e.data_content.as_deref().expect("body");
                (e.to.clone(), serde_json::from_str(body).expect("receipt"))
            })
            .collect();
        assert_eq!(receipts.len(), 2);
        assert_eq!(receipts[0].0, "7");
        assert_eq!(receipts[0].1.ids, ["a", "b"]);
        assert_eq!(receipts[0].1.kind, ReceiptKind::Delivered);
        assert_eq!((receipts[1].0.as_str(), receipts[1].1.ids.len()), ("8", 1));
        assert_eq!(s.outbox().expect("o").len(), 2, "persisted before sending");
        // The same messages again (a sync after a live push) send nothing more.
        assert!(ingest(&s, "5", &envs, 0)
            .expect("again")
            .outbound
            .is_empty());
    }

    #[test]
    fn own_receipt_copies_are_acks_not_messages() {
        let s = Store::open_in_memory().expect("open");
        ingest(&s, "5", &[push("7", "5", "a", 1, 1, "hi")], 0).expect("in");
        let queued = s.outbox().expect("o");
        assert_eq!(queued.len(), 1);
        let mut copy = queued[0].envelope.clone();
        copy.seq = Some(2);
        let r = ingest(&s, "5", &[copy], 0).expect("copy");
        assert!(r.received.is_empty() && r.conversations.is_empty());
        assert_eq!(s.message_count().expect("n"), 1, "only the chat message");
        assert!(
            s.outbox().expect("o").is_empty(),
            "the copy acknowledged it"
        );
        assert_eq!(r.max_seq, Some(2));
    }

    #[test]
    fn friend_events_apply_once_and_group_events_are_stored_lines() {
        let s = Store::open_in_memory().expect("open");
        let friend =
            r#"{"event":"removed","user":{"user_id":"7","username":"amy","nickname":"Amy"}}"#;
        let ev = push("0", "5", "s-f1", 1, kinds::FRIEND_EVENT, friend);
        let r = ingest(&s, "5", std::slice::from_ref(&ev), 0).expect("f");
        assert_eq!(r.social, [Event::FriendsChanged]);
        assert!(r.received.is_empty() && s.message_count().expect("n") == 0);
        assert!(ingest(&s, "5", &[ev], 0).expect("again").social.is_empty());

        let group = r#"{"event":"members_added","group":{"group_id":"g4","name":"team","owner":"7","member_count":3,"created_at":1},"by":"7","members":["5","8"]}"#;
        let r = ingest(
            &s,
            "5",
            &[push("0", "g4", "s-g1", 2, kinds::GROUP_EVENT, group)],
            0,
        )
        .expect("g");
        assert!(matches!(&r.social[..], [Event::GroupUpdated(g)] if g.group_id == "g4"));
        assert_eq!(r.received.len(), 1);
        assert!(r.outbound.is_empty(), "system lines get no receipts");
        let c = s.conversation("g4").expect("q").expect("c");
        assert_eq!(c.unread, 0, "system lines are not unread");
        assert_eq!(
            c.last_text.as_deref(),
            Some("\u{2068}Amy\u{2069} added \u{2068}5\u{2069}, \u{2068}8\u{2069}")
        );
    }

    #[test]
    fn transient_kinds_are_never_stored() {
        let s = Store::open_in_memory().expect("open");
        let mut typing = Envelope::new(PacketType::CommonData, "7", "5");
        typing.typeu = kinds::TYPING;
        typing.data_content = Some(r#"{"typing":true}"#.into());
        let r = ingest(&s, "5", &[typing], 0).expect("i");
        assert!(r.received.is_empty());
        assert_eq!(s.message_count().expect("n"), 0);
    }

    #[test]
    fn fallbacks_are_noted_and_replaced_when_the_full_form_arrives() {
        let s = Store::open_in_memory().expect("open");
        let fallback = kinds::text_fallback(kinds::STICKER);
        ingest(
            &s,
            "5",
            &[push("7", "5", "st", 6, kinds::TEXT, fallback)],
            0,
        )
        .expect("old");
        assert_eq!(state_num(&s, FALLBACK_KEY).expect("n"), Some(6));
        let r = ingest(
            &s,
            "5",
            &[push("7", "5", "st", 6, kinds::STICKER, r#"{"id":"x"}"#)],
            0,
        )
        .expect("new");
        assert_eq!(r.upgraded.len(), 1);
        assert_eq!(r.upgraded[0].typeu, kinds::STICKER);
        assert!(r.received.is_empty(), "not a new message");
    }
}
