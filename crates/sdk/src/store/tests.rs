use super::*;
use crate::model::{HistoryCursor, Message, MessageStatus};

fn received(id: &str, from: &str, sent_at: i64, text: &str) -> Message {
    Message {
        id: id.into(),
        conversation_id: from.into(),
        from: from.into(),
        to: "me".into(),
        typeu: 1,
        content: text.into(),
        sent_at,
        seq: None,
        status: MessageStatus::Received,
        outgoing: false,
    }
}

#[test]
fn insert_dedupes_by_id_and_counts_unread_once() {
    let s = Store::open_in_memory().expect("open");
    let m = received("a", "7", 100, "hello");
    assert!(s.insert_message(&m).expect("insert"));
    assert!(!s.insert_message(&m).expect("dup"));
    let fresh = s
        .insert_messages(&[m.clone(), received("b", "7", 200, "again")])
        .expect("batch");
    assert_eq!(fresh.len(), 1);
    assert_eq!(fresh[0].id, "b");
    assert_eq!(s.message_count().expect("count"), 2);
    let c = s.conversation("7").expect("q").expect("exists");
    assert_eq!(c.unread, 2);
    assert_eq!(
        (c.last_message_id.as_deref(), c.last_text.as_deref()),
        (Some("b"), Some("again"))
    );
    assert_eq!(s.message("a").expect("q"), Some(m));
}

#[test]
fn older_messages_do_not_replace_the_last_message() {
    let s = Store::open_in_memory().expect("open");
    s.insert_message(&received("new", "7", 500, "newest"))
        .expect("i");
    s.insert_message(&received("old", "7", 100, "older"))
        .expect("i");
    let c = s.conversation("7").expect("q").expect("exists");
    assert_eq!(
        (c.last_message_id.as_deref(), c.last_at, c.unread),
        (Some("new"), 500, 2)
    );
}

#[test]
fn conversations_sort_by_activity_and_mark_read() {
    let s = Store::open_in_memory().expect("open");
    s.insert_message(&received("a", "1", 100, "x")).expect("i");
    s.insert_message(&received("b", "2", 300, "y")).expect("i");
    let own = Message::new_outgoing("me", "3", 1, "mine", 200);
    s.insert_outgoing(&own, 200).expect("own");
    let ids: Vec<_> = s
        .conversations()
        .expect("list")
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, ["2", "3", "1"]);
    assert_eq!(s.conversation("3").expect("q").expect("c").unread, 0);
    let c = s.mark_read("2").expect("read").expect("exists");
    assert_eq!(c.unread, 0);
    assert_eq!(s.mark_read("nobody").expect("ok"), None);
}

#[test]
fn keyset_paging_is_exact_across_equal_timestamps() {
    let s = Store::open_in_memory().expect("open");
    // 25 messages, 5 per timestamp, inserted in scrambled order.
    let mut all: Vec<Message> = (0..25)
        .map(|i| {
            received(
                &format!("id{:02}", (i * 7) % 25),
                "9",
                1000 + ((i * 7) % 25) / 5,
                "t",
            )
        })
        .collect();
    s.insert_messages(&all).expect("batch");
    s.insert_message(&received("other", "8", 1002, "elsewhere"))
        .expect("i");
    all.sort_by(|a, b| (b.sent_at, &b.id).cmp(&(a.sent_at, &a.id)));
    let mut paged = Vec::new();
    let mut before: Option<HistoryCursor> = None;
    loop {
        let page = s.history("9", before.as_ref(), 4).expect("page");
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 4);
        before = page.last().map(Message::cursor);
        paged.extend(page);
    }
    let got: Vec<_> = paged.iter().map(|m| m.id.as_str()).collect();
    let want: Vec<_> = all.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(got, want);
}

#[test]
fn outbox_ack_fail_and_requeue() {
    let s = Store::open_in_memory().expect("open");
    let a = Message::new_outgoing("me", "2", 1, "a", 10);
    let b = Message::new_outgoing("me", "2", 1, "b", 11);
    s.insert_outgoing(&a, 10).expect("a");
    s.insert_outgoing(&b, 11).expect("b");
    assert!(s.insert_outgoing(&a, 12).is_err(), "same id twice");
    let out = s.outbox().expect("outbox");
    assert_eq!(
        out.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        [&a.id, &b.id]
    );
    assert_eq!(out[0].envelope, a.to_envelope());
    assert_eq!((out[0].attempts, out[0].last_sent_at), (0, 10));

    s.outbox_sent(std::slice::from_ref(&a.id), 50, false)
        .expect("resend");
    assert_eq!(s.outbox().expect("o")[0].attempts, 1);
    s.outbox_sent(std::slice::from_ref(&a.id), 60, true)
        .expect("fresh");
    assert_eq!(
        (
            s.outbox().expect("o")[0].attempts,
            s.outbox().expect("o")[0].last_sent_at
        ),
        (0, 60)
    );

    let acked = s.ack(&a.id).expect("ack").expect("changed");
    assert_eq!(acked.status, MessageStatus::Sent);
    assert_eq!(
        s.ack(&a.id).expect("again"),
        None,
        "a second ACK changes nothing"
    );
    let failed = s
        .fail(&b.id, 1101, "not friends")
        .expect("fail")
        .expect("changed");
    assert_eq!(
        failed.status,
        MessageStatus::Failed {
            code: 1101,
            reason: "not friends".into()
        }
    );
    assert!(s.outbox().expect("o").is_empty());
    assert!(matches!(s.requeue(&a.id, 70), Err(Error::NotRetryable)));
    let again = s.requeue(&b.id, 70).expect("requeue");
    assert_eq!(again.status, MessageStatus::Sending);
    assert_eq!(
        s.message(&b.id).expect("q").expect("m").status,
        MessageStatus::Sending
    );
    assert_eq!(s.outbox().expect("o").len(), 1);
    assert!(matches!(
        s.requeue("nope", 1),
        Err(Error::MessageNotFound(_))
    ));
}

#[test]
fn parked_messages_show_failed_but_stay_in_the_outbox_until_the_next_login() {
    let s = Store::open_in_memory().expect("open");
    let m = Message::new_outgoing("me", "2", 1, "into the void", 10);
    s.insert_outgoing(&m, 10).expect("out");
    let parked = s
        .park(&m.id, "no acknowledgement")
        .expect("park")
        .expect("changed");
    assert!(matches!(
        parked.status,
        MessageStatus::Failed { code: 0, .. }
    ));
    let out = s.outbox().expect("outbox");
    assert_eq!(out.len(), 1, "a parked message is not dropped");
    assert!(out[0].parked);

    let back = s.unpark_all().expect("unpark");
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].status, MessageStatus::Sending);
    assert!(!s.outbox().expect("o")[0].parked);
    assert!(s.unpark_all().expect("again").is_empty());

    // A parked message acknowledged late (e.g. via sync) still becomes Sent.
    s.park(&m.id, "no acknowledgement").expect("park");
    assert_eq!(
        s.ack(&m.id).expect("ack").expect("changed").status,
        MessageStatus::Sent
    );
    assert!(s.outbox().expect("o").is_empty());
}

#[test]
fn outbox_and_cursor_survive_reopen() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("a").join(FILE_NAME);
    let m = Message::new_outgoing("me", "2", 1, "persist me", 10);
    {
        let s = Store::open(&path).expect("open");
        s.insert_outgoing(&m, 10).expect("out");
        assert_eq!(s.advance_sync_cursor(5).expect("cur"), 5);
    }
    let s = Store::open(&path).expect("reopen");
    assert_eq!(s.outbox().expect("o").len(), 1);
    assert_eq!(
        s.message(&m.id).expect("q").expect("m").status,
        MessageStatus::Sending
    );
    assert_eq!(s.sync_cursor().expect("cur"), 5);
    let version: i32 = s
        .with_connection(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
        .expect("v");
    assert_eq!(version, schema::VERSION);
    let mode: String = s
        .with_connection(|c| c.query_row("PRAGMA journal_mode", [], |r| r.get(0)))
        .expect("m");
    assert_eq!(mode, "wal");
}

#[test]
fn sync_cursor_only_moves_forward() {
    let s = Store::open_in_memory().expect("open");
    assert_eq!(s.sync_cursor().expect("c"), 0);
    assert_eq!(s.advance_sync_cursor(10).expect("c"), 10);
    assert_eq!(s.advance_sync_cursor(3).expect("c"), 10);
    assert_eq!(s.advance_sync_cursor(11).expect("c"), 11);
    assert_eq!(s.sync_cursor().expect("c"), 11);
}

#[test]
fn receipts_only_move_status_forward() {
    let s = Store::open_in_memory().expect("open");
    let m = Message::new_outgoing("me", "2", 1, "x", 1);
    s.insert_outgoing(&m, 1).expect("o");
    s.ack(&m.id).expect("ack");
    assert!(s
        .advance_status(&m.id, &MessageStatus::Read)
        .expect("r")
        .is_some());
    assert!(s
        .advance_status(&m.id, &MessageStatus::Delivered)
        .expect("d")
        .is_none());
    assert_eq!(
        s.message(&m.id).expect("q").expect("m").status,
        MessageStatus::Read
    );
}

#[tokio::test]
async fn call_runs_off_the_runtime() {
    let s = Store::open_in_memory().expect("open");
    let n = s
        .call(|s| {
            s.insert_message(&received("z", "1", 1, "x"))?;
            s.message_count()
        })
        .await
        .expect("call");
    assert_eq!(n, 1);
}
