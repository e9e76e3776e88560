//! The search service on a real store and a real index in a temp dir: feeding from every
//! write path, deletes and rewrites, healing after a crash, rebuilds with progress.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hongyan_protocol::{kinds, SERVER_ID};
use hongyan_search::{SearchIndex, VERSION_FILE};
use tokio::sync::broadcast::{self, error::TryRecvError};

use super::*;
use crate::events::Event;
use crate::model::{Message, MessageStatus, Notice};
use crate::store::Store;

const WAIT: Duration = Duration::from_secs(20);

fn received(id: &str, from: &str, sent_at: i64, text: &str) -> Message {
    Message {
        id: id.into(),
        conversation_id: from.into(),
        from: from.into(),
        to: "me".into(),
        typeu: kinds::TEXT,
        content: text.into(),
        sent_at,
        seq: None,
        status: MessageStatus::Received,
        outgoing: false,
    }
}

struct Opened {
    service: SearchService,
    events: broadcast::Receiver<Event>,
    status: Arc<Mutex<IndexStatus>>,
}

impl Opened {
    fn status(&self) -> IndexStatus {
        *self.status.lock().expect("status")
    }

    /// How many documents of the index match (deleted messages included until the index
    /// has removed them).
    fn total(&self, text: &str) -> usize {
        self.service
            .handle()
            .search(Query::text(text))
            .expect("search")
            .total
    }

    fn ids(&self, text: &str) -> Vec<String> {
        ids_of(&self.service.handle(), Query::text(text))
    }

    /// Every `IndexProgress` until the one with `done == total`.
    fn progress_until_done(&mut self) -> Vec<(u64, u64)> {
        let mut seen = Vec::new();
        let deadline = Instant::now() + WAIT;
        loop {
            match self.events.try_recv() {
                Ok(Event::IndexProgress { done, total }) => {
                    seen.push((done, total));
                    if done == total {
                        return seen;
                    }
                }
                Ok(_) => {}
                Err(TryRecvError::Empty) => {
                    assert!(Instant::now() < deadline, "no final progress: {seen:?}");
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!("{e:?}"),
            }
        }
    }
}

fn open(dir: &Path, store: &Store) -> Opened {
    let (tx, events) = broadcast::channel(4096);
    let status = Arc::new(Mutex::new(IndexStatus::UNAVAILABLE));
    let service = SearchService::open(dir, store.clone(), tx, status.clone()).expect("open");
    Opened {
        service,
        events,
        status,
    }
}

fn ids_of(handle: &SearchHandle, query: Query) -> Vec<String> {
    let page = handle.search(query).expect("search");
    page.hits.into_iter().map(|h| h.message.id).collect()
}

fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn status_and_pages_serialize_as_the_app_reads_them() {
    let status = IndexStatus {
        state: IndexState::Rebuilding,
        done: 3,
        total: 9,
    };
    assert_eq!(
        serde_json::to_value(status).expect("json"),
        serde_json::json!({"state": "rebuilding", "done": 3, "total": 9})
    );
    let page = SearchPage {
        total: 1,
        hits: vec![SearchHit {
            message: received("a", "7", 1, "消息"),
            snippet: vec![SnippetPart {
                text: "消息".into(),
                hit: true,
            }],
            score: 0.0,
        }],
        next_offset: None,
    };
    let json = serde_json::to_value(&page).expect("json");
    assert_eq!(json["hits"][0]["snippet"][0]["hit"], true);
    assert_eq!(json["hits"][0]["message"]["id"], "a");
    assert!(json["next_offset"].is_null());
    let query: Query = serde_json::from_value(serde_json::json!({
        "text": "推送", "conversation_id": "7", "order": "relevance", "offset": 20, "limit": 20
    }))
    .expect("query");
    assert_eq!((query.order, query.offset), (Order::Relevance, 20));
}

#[test]
fn text_and_notices_are_indexed_other_kinds_are_not() {
    let text = received("t", "7", 1, "离线消息推送");
    assert_eq!(indexed_text(&text).as_deref(), Some("离线消息推送"));
    let notice = Notice {
        id: 4,
        title: "维护通知".into(),
        body: "Servers restart tonight".into(),
        published_at: 9,
        recalled: false,
        audience: None,
    };
    let n = Message::from_notice(&notice, "me");
    assert_eq!(
        indexed_text(&n).as_deref(),
        Some("维护通知\nServers restart tonight")
    );
    let doc = doc_for(&n).expect("doc");
    assert_eq!(
        (
            doc.id.as_str(),
            doc.conversation_id.as_str(),
            doc.sender.as_str(),
            doc.sent_at
        ),
        ("notice-4", "notices", SERVER_ID, 9)
    );
    for (typeu, content) in [
        (kinds::IMAGE, r#"{"url":"x"}"#),
        (kinds::STICKER, r#"{"pack":"p","id":"x"}"#),
        (kinds::GROUP_EVENT, r#"{"event":"renamed"}"#),
        (kinds::TEXT, kinds::text_fallback(kinds::STICKER)),
        (kinds::TEXT, "   "),
    ] {
        let m = Message {
            typeu,
            content: content.into(),
            ..text.clone()
        };
        assert_eq!(indexed_text(&m), None, "{typeu} {content}");
    }
}

#[test]
fn every_stored_message_is_indexed_and_deletes_and_rewrites_follow() {
    let tmp = tempfile::tempdir().expect("tmp");
    let store = Store::open_in_memory().expect("store");
    let mut s = open(&tmp.path().join(DIR_NAME), &store);
    s.progress_until_done();
    assert_eq!(s.status().state, IndexState::Ready);

    // Live or synced (a batch), an own send, a notice, an image.
    store
        .insert_messages(&[
            received("zh", "7", 10, "离线消息推送"),
            received("en", "7", 11, "It was delivered yesterday"),
        ])
        .expect("batch");
    let own = Message::new_outgoing("me", "7", kinds::TEXT, "MobileIMSDK的QoS机制", 12);
    store.insert_outgoing(&own, 12).expect("own");
    let notice = Notice {
        id: 1,
        title: "Maintenance".into(),
        body: "服务器今晚重启".into(),
        published_at: 13,
        recalled: false,
        audience: None,
    };
    store
        .insert_message(&Message::from_notice(&notice, "me"))
        .expect("notice");
    let image = Message {
        typeu: kinds::IMAGE,
        content: r#"{"name":"消息.png"}"#.into(),
        ..received("img", "7", 14, "")
    };
    store.insert_message(&image).expect("image");

    wait_until("the notice is searchable", || s.ids("重启") == ["notice-1"]);
    assert_eq!(s.ids("消息"), ["zh"], "the image's JSON is not indexed");
    assert_eq!(s.ids("推送"), ["zh"]);
    assert_eq!(s.ids("deliver"), ["en"]);
    assert_eq!(s.ids("QoS"), std::slice::from_ref(&own.id));
    assert_eq!(s.ids("机制"), std::slice::from_ref(&own.id));

    // A recalled notice is deleted from the store: gone from results.
    store.delete_message("notice-1").expect("recall");
    // Gone from the index itself, not only dropped from the hits.
    wait_until("the recalled notice is gone", || s.total("重启") == 0);
    // A message rewritten in place is found by its new text only.
    store
        .with_connection(|c| {
            c.execute(
                "UPDATE messages SET content = 'rewritten 推送' WHERE id = 'en'",
                [],
            )
        })
        .expect("rewrite");
    wait_until("the rewrite is indexed", || s.ids("rewritten") == ["en"]);
    assert_eq!(s.total("delivered"), 0);
    // Status changes do not touch the index.
    store.ack(&own.id).expect("ack");
    assert_eq!(s.ids("QoS"), std::slice::from_ref(&own.id));
    s.service.close();
    assert_eq!(
        store.search_journal(0, 10).expect("journal"),
        [],
        "applied journal entries are trimmed"
    );
}

#[test]
fn a_crash_between_store_and_index_heals_on_the_next_open() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join(DIR_NAME);
    let store = Store::open(tmp.path().join(crate::store::FILE_NAME)).expect("store");
    store
        .insert_message(&received("a", "7", 1, "first 消息"))
        .expect("a");
    let s = open(&dir, &store);
    wait_until("a is indexed", || s.ids("消息") == ["a"]);
    s.service.close();
    let watermark = store.search_watermark().expect("watermark");
    assert!(watermark > 0, "the watermark is persisted after the commit");

    // The app dies: what is stored next never reaches the index.
    store
        .insert_messages(&[
            received("b", "7", 2, "second 消息"),
            received("c", "8", 3, "third 消息"),
        ])
        .expect("b, c");
    store.delete_message("a").expect("delete a");
    drop(store);

    let store = Store::open(tmp.path().join(crate::store::FILE_NAME)).expect("reopen");
    let mut s = open(&dir, &store);
    let progress = s.progress_until_done();
    assert_eq!(
        progress.last(),
        Some(&(2, 2)),
        "catches up the two missing rows"
    );
    assert_eq!(s.status().state, IndexState::Ready);
    let mut found = s.ids("消息");
    found.sort();
    assert_eq!(
        found,
        ["b", "c"],
        "the deleted one is gone, the new ones are there"
    );
    assert_eq!(s.total("消息"), 2, "removed from the index too");
    s.service.close();
    assert!(store.search_watermark().expect("w") > watermark);
}

#[test]
fn a_missing_index_is_rebuilt_in_batches_with_progress_while_chat_goes_on() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join(DIR_NAME);
    let store = Store::open_in_memory().expect("store");
    let n = indexer::READ_BATCH * 3 + 7;
    let batch: Vec<Message> = (0..n)
        .map(|i| {
            let text = if i % 2 == 0 {
                "离线消息推送"
            } else {
                "delivered"
            };
            received(&format!("m{i:05}"), "7", i as i64, text)
        })
        .collect();
    store.insert_messages(&batch).expect("batch");

    let mut s = open(&dir, &store);
    assert_eq!(s.status().state, IndexState::Rebuilding);
    assert_eq!(s.status().total, n as u64);
    // A message stored during the rebuild is indexed too.
    store
        .insert_message(&received("live", "8", 1_000_000, "消息 during rebuild"))
        .expect("live");
    let progress = s.progress_until_done();
    assert!(
        progress.windows(2).all(|w| w[0].0 <= w[1].0),
        "progress only grows: {progress:?}"
    );
    assert!(progress.iter().all(|p| p.1 == n as u64), "{progress:?}");
    assert_eq!(progress.last(), Some(&(n as u64, n as u64)));
    assert_eq!(s.status().state, IndexState::Ready);

    let handle = s.service.handle();
    let page = handle.search(Query::text("消息")).expect("search");
    assert_eq!(page.total, n / 2 + 1 + 1);
    wait_until("the live message is found", || {
        ids_of(&handle, Query::text("during")) == ["live"]
    });
    let page = handle
        .search(Query {
            conversation_id: Some("7".into()),
            ..Query::text("deliver")
        })
        .expect("search");
    assert_eq!(page.total, n / 2);
    drop(handle);
    s.service.close();
}

#[test]
fn an_old_version_or_corrupt_index_is_rebuilt() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join(DIR_NAME);
    let store = Store::open_in_memory().expect("store");
    store
        .insert_message(&received("a", "7", 1, "离线消息推送"))
        .expect("a");
    let s = open(&dir, &store);
    wait_until("indexed", || s.ids("推送") == ["a"]);
    s.service.close();

    std::fs::write(dir.join(VERSION_FILE), "0\n").expect("old version");
    let mut s = open(&dir, &store);
    assert_eq!(s.progress_until_done().last(), Some(&(1, 1)));
    assert_eq!(s.ids("推送"), ["a"]);
    s.service.close();

    std::fs::write(dir.join("meta.json"), "{ not json").expect("corrupt");
    let mut s = open(&dir, &store);
    assert_eq!(s.progress_until_done().last(), Some(&(1, 1)));
    assert_eq!(s.ids("推送"), ["a"]);
    s.service.close();
}

#[test]
fn pages_follow_next_offset_newest_first_and_vanished_messages_are_dropped() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join(DIR_NAME);
    let store = Store::open_in_memory().expect("store");
    let batch: Vec<Message> = (0..5)
        .map(|i| received(&format!("p{i}"), "7", 100 + i, "同步 sync"))
        .collect();
    store.insert_messages(&batch).expect("batch");
    let mut s = open(&dir, &store);
    s.progress_until_done();
    let handle = s.service.handle();

    let mut pages = Vec::new();
    let mut query = Query {
        limit: 2,
        ..Query::text("同步")
    };
    loop {
        let page = handle.search(query.clone()).expect("page");
        assert_eq!(page.total, 5);
        pages.push(
            page.hits
                .iter()
                .map(|h| h.message.id.clone())
                .collect::<Vec<_>>(),
        );
        match page.next_offset {
            Some(next) => query.offset = next,
            None => break,
        }
    }
    assert_eq!(pages, [vec!["p4", "p3"], vec!["p2", "p1"], vec!["p0"]]);
    let hit = &handle.search(Query::text("sync")).expect("s").hits[0];
    assert!(
        hit.snippet.iter().any(|p| p.hit && p.text == "sync"),
        "{hit:?}"
    );
    // A query still holding the index does not keep it open past close.
    let late = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        drop(handle);
    });
    s.service.close();
    late.join().expect("late query");

    // A message deleted while no indexer ran: the index still has it, the page does not.
    store.delete_message("p4").expect("delete");
    let (index, opened) = SearchIndex::open(&dir).expect("reopen the index alone");
    assert_eq!(
        opened,
        hongyan_search::Opened::Ready,
        "close released the writer"
    );
    let bare = SearchHandle::new(Arc::new(index), store.clone());
    let page = bare.search(Query::text("同步")).expect("search");
    assert_eq!(page.total, 5, "the index is behind");
    assert_eq!(
        page.hits
            .iter()
            .map(|h| h.message.id.as_str())
            .collect::<Vec<_>>(),
        ["p3", "p2", "p1", "p0"]
    );
}
