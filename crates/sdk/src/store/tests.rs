use super::*;
use crate::model::{HistoryCursor, Message, MessageStatus};
use crate::store::UploadFile;

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

#[test]
fn a_version_1_store_migrates_to_version_2_keeping_its_data() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join(FILE_NAME);
    {
        // A store as the previous release wrote it.
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.execute_batch(schema::V1_FOR_TESTS).expect("v1");
        conn.pragma_update(None, "user_version", 1).expect("v");
        conn.execute(
            "INSERT INTO messages (id, conversation_id, sender, recipient, typeu, content, \
             sent_at, seq, status, outgoing, stored_at) \
             VALUES ('old', '7', '7', 'me', 1, 'from v1', 5, 1, 'received', 0, 5)",
            [],
        )
        .expect("row");
        conn.execute(
            "INSERT INTO conversations (id, last_message_id, last_text, last_at, unread) \
             VALUES ('7', 'old', 'from v1', 5, 1)",
            [],
        )
        .expect("conv");
    }
    let s = Store::open(&path).expect("migrate");
    let version: i32 = s
        .with_connection(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
        .expect("v");
    // Through version 2 up to the current one (3 since issue 7).
    assert_eq!(version, schema::VERSION);
    assert_eq!(
        s.message("old").expect("q").expect("kept").content,
        "from v1"
    );
    // Old messages are not re-announced as unread for read receipts.
    let (c, newly_read) = s.mark_read_collect("7").expect("read");
    assert_eq!(c.expect("c").unread, 0);
    assert!(newly_read.is_empty());
    // The new tables work.
    assert!(s.friends().expect("f").is_empty());
    assert!(s.groups().expect("g").is_empty());
    assert!(s.first_sighting("s-1", 1).expect("seen"));
    assert!(!s.first_sighting("s-1", 2).expect("seen again"));
    drop(s);
    Store::open(&path).expect("reopening a v2 store is a no-op");
}

#[test]
fn mark_read_returns_what_wants_a_read_receipt_once() {
    let s = Store::open_in_memory().expect("open");
    s.insert_messages(&[received("a", "7", 1, "x"), received("b", "7", 2, "y")])
        .expect("i");
    let (c, pairs) = s.mark_read_collect("7").expect("read");
    assert_eq!(c.expect("c").unread, 0);
    assert_eq!(
        pairs,
        [
            ("7".to_owned(), "a".to_owned()),
            ("7".to_owned(), "b".to_owned())
        ]
    );
    assert!(s.mark_read_collect("7").expect("again").1.is_empty());
}

#[test]
fn deleting_a_message_repairs_its_conversation() {
    let s = Store::open_in_memory().expect("open");
    s.insert_messages(&[
        received("a", "7", 1, "first"),
        received("b", "7", 2, "second"),
    ])
    .expect("i");
    let (m, c) = s.delete_message("b").expect("delete").expect("existed");
    assert_eq!(m.id, "b");
    let c = c.expect("conversation");
    assert_eq!(
        (
            c.last_message_id.as_deref(),
            c.last_text.as_deref(),
            c.unread
        ),
        (Some("a"), Some("first"), 1)
    );
    s.delete_message("a").expect("delete");
    let c = s.conversation("7").expect("q").expect("row kept");
    assert_eq!((c.last_message_id, c.unread), (None, 0));
    assert!(s.delete_message("a").expect("again").is_none());
}

#[test]
fn a_text_fallback_is_upgraded_in_place() {
    let s = Store::open_in_memory().expect("open");
    let fallback = received(
        "st",
        "7",
        1,
        hongyan_protocol::kinds::text_fallback(hongyan_protocol::kinds::STICKER),
    );
    s.insert_message(&fallback).expect("i");
    let full = Message {
        typeu: hongyan_protocol::kinds::STICKER,
        content: r#"{"pack":"p","id":"x"}"#.into(),
        ..fallback.clone()
    };
    let up = s.upgrade_fallback(&full).expect("up").expect("replaced");
    assert_eq!(up.typeu, hongyan_protocol::kinds::STICKER);
    assert_eq!(
        s.conversation("7")
            .expect("q")
            .expect("c")
            .last_text
            .as_deref(),
        Some("[Sticker]")
    );
    assert!(s.upgrade_fallback(&full).expect("again").is_none());
    // A text that merely looks different is never overwritten.
    s.insert_message(&received("t", "7", 2, "hello"))
        .expect("i");
    let other = Message {
        id: "t".into(),
        ..full
    };
    assert!(s.upgrade_fallback(&other).expect("no").is_none());
}

#[test]
fn control_envelopes_queue_in_the_outbox_without_a_message() {
    let s = Store::open_in_memory().expect("open");
    let env = hongyan_protocol::Envelope::chat("me", "7", "r1", 90, "{}");
    s.queue_signals(std::slice::from_ref(&env), 5)
        .expect("queue");
    s.queue_signals(std::slice::from_ref(&env), 6)
        .expect("twice is once");
    let out = s.outbox().expect("o");
    assert_eq!((out.len(), out[0].envelope.clone()), (1, env));
    assert_eq!(s.message_count().expect("n"), 0);
    // Refused (e.g. 1101 after unfriending): dropped silently.
    assert_eq!(s.fail("r1", 1101, "not friends").expect("fail"), None);
    assert!(s.outbox().expect("o").is_empty());
}

fn image_message(id_hint: &str) -> (Message, Vec<UploadFile>) {
    let m = Message::new_outgoing("me", "2", hongyan_protocol::kinds::IMAGE, id_hint, 10);
    let files = vec![
        UploadFile {
            sha256: "b".repeat(64),
            size: 100,
        },
        UploadFile {
            sha256: "a".repeat(64),
            size: 5000,
        },
    ];
    (m, files)
}

#[test]
fn a_held_image_stays_out_of_the_outbox_until_its_upload_is_released() {
    let s = Store::open_in_memory().expect("open");
    let (m, files) = image_message("{}");
    s.insert_outgoing_held(&m, &files, 10).expect("held");
    assert!(s.outbox().expect("o").is_empty(), "not sent before upload");
    assert_eq!(
        s.message(&m.id).expect("q").expect("m").status,
        MessageStatus::Sending
    );
    let pending = s.pending_uploads().expect("p");
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (
            pending[0].files.clone(),
            pending[0].conversation_id.as_str()
        ),
        (files, "2")
    );
    assert!(pending[0].pending);
    // A text-style retry cannot bypass the upload.
    assert!(matches!(s.requeue(&m.id, 11), Err(Error::NotRetryable)));
    assert!(s.outbox().expect("o").is_empty());

    let env = s.release_upload(&m.id, 20).expect("release").expect("env");
    assert_eq!(env.fp.as_deref(), Some(m.id.as_str()));
    let outbox = s.outbox().expect("o");
    assert_eq!(outbox.len(), 1);
    assert_eq!(
        (outbox[0].id.as_str(), outbox[0].last_sent_at),
        (m.id.as_str(), 20)
    );
    assert!(s.pending_uploads().expect("p").is_empty());
    assert!(s.upload(&m.id).expect("u").is_none());
    // Released once only; from now on it is an ordinary outbox entry.
    assert!(s.release_upload(&m.id, 21).expect("again").is_none());
    assert!(s.restart_upload(&m.id).expect("no upload row").is_none());
    assert_eq!(
        s.ack(&m.id).expect("ack").expect("m").status,
        MessageStatus::Sent
    );
}

#[test]
fn a_failed_upload_shows_failed_and_a_retry_makes_it_pending_again() {
    let s = Store::open_in_memory().expect("open");
    let (m, files) = image_message("{}");
    s.insert_outgoing_held(&m, &files, 10).expect("held");
    let failed = s
        .fail_upload(&m.id, "upload failed: network error")
        .expect("fail")
        .expect("changed");
    assert_eq!(
        failed.status,
        MessageStatus::Failed {
            code: 0,
            reason: "upload failed: network error".into()
        }
    );
    assert!(
        s.pending_uploads().expect("p").is_empty(),
        "waits for retry"
    );
    let held = s.upload(&m.id).expect("u").expect("kept");
    assert!(!held.pending);
    // A failed upload cannot be released (the files are not there).
    assert!(s.release_upload(&m.id, 11).expect("r").is_none());
    assert!(s.fail_upload(&m.id, "again").expect("f").is_none());
    assert!(s.outbox().expect("o").is_empty());

    let (again, upload) = s.restart_upload(&m.id).expect("retry").expect("upload");
    assert_eq!(again.status, MessageStatus::Sending);
    assert_eq!(upload.files, files);
    assert_eq!(s.pending_uploads().expect("p").len(), 1);
    assert!(s.release_upload(&m.id, 12).expect("r").is_some());
}

#[test]
fn a_pending_upload_survives_reopen_and_a_version_2_store_gains_the_table() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join(FILE_NAME);
    {
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.execute_batch(schema::V1_FOR_TESTS).expect("v1");
        conn.execute_batch(schema::V2_FOR_TESTS).expect("v2");
        conn.pragma_update(None, "user_version", 2).expect("v");
    }
    let (m, files) = image_message("{}");
    {
        let s = Store::open(&path).expect("migrate");
        s.insert_outgoing_held(&m, &files, 10).expect("held");
    }
    let s = Store::open(&path).expect("reopen");
    let version: i32 = s
        .with_connection(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
        .expect("v");
    assert_eq!(version, 3);
    let pending = s.pending_uploads().expect("p");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].message_id, m.id);
    assert!(s.outbox().expect("o").is_empty());
}
