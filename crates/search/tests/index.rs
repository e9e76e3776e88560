//! The index end to end on a temp dir: lifecycle, upserts, deletes, filters, order, paging.

use hongyan_search::{
    snippet, Doc, Opened, Order, Query, RebuildReason, SearchIndex, SnippetPart, SCHEMA_VERSION,
    VERSION_FILE,
};

fn doc(id: &str, conversation: &str, sender: &str, sent_at: i64, text: &str) -> Doc {
    Doc {
        id: id.to_string(),
        conversation_id: conversation.to_string(),
        sender: sender.to_string(),
        sent_at,
        text: text.to_string(),
    }
}

fn sample() -> Vec<Doc> {
    vec![
        doc("m1", "c1", "alice", 1_000, "离线消息推送已经送达"),
        doc(
            "m2",
            "c1",
            "bob",
            2_000,
            "The message was delivered to the server",
        ),
        doc("m3", "c2", "alice", 3_000, "MobileIMSDK的QoS机制很可靠"),
        doc("m4", "c2", "carol", 4_000, "消息 息推 are two words apart"),
        doc("m5", "c3", "bob", 5_000, "Delivery report: 推送成功 ✅"),
    ]
}

fn ids(index: &SearchIndex, q: &Query) -> Vec<String> {
    index
        .search(q)
        .expect("search")
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect()
}

fn open_with_sample(dir: &std::path::Path) -> SearchIndex {
    let (index, opened) = SearchIndex::open(dir).expect("open");
    assert_eq!(opened, Opened::Rebuild(RebuildReason::Missing));
    index.add(&sample()).expect("add");
    index.commit().expect("commit");
    index
}

#[test]
fn finds_cjk_substrings_words_and_prefixes() {
    let dir = tempfile::tempdir().unwrap();
    let index = open_with_sample(dir.path());
    assert_eq!(index.doc_count().unwrap(), 5);
    assert_eq!(ids(&index, &Query::text("消息")), ["m4", "m1"]);
    assert_eq!(ids(&index, &Query::text("推送")), ["m5", "m1"]);
    // 3+ chars are a phrase: m4 has 消息 and 息推 but not adjacent.
    assert_eq!(ids(&index, &Query::text("消息推")), ["m1"]);
    assert_eq!(ids(&index, &Query::text("deliv")), ["m5", "m2"]);
    assert_eq!(ids(&index, &Query::text("delivered")), ["m2"]);
    assert_eq!(ids(&index, &Query::text("qos")), ["m3"]);
    assert_eq!(ids(&index, &Query::text("MobileIMSDK")), ["m3"]);
    assert_eq!(ids(&index, &Query::text("机制")), ["m3"]);
    assert_eq!(ids(&index, &Query::text("的")), ["m3"]);
    // A single CJK character: start or end of a bigram.
    assert_eq!(ids(&index, &Query::text("送")), ["m5", "m1"]);
    assert_eq!(ids(&index, &Query::text("达")), ["m1"]);
    // AND of terms.
    assert_eq!(ids(&index, &Query::text("message server")), ["m2"]);
    assert!(ids(&index, &Query::text("message 推送")).is_empty());
    assert!(ids(&index, &Query::text("nothing")).is_empty());
}

#[test]
fn snippet_marks_the_match() {
    let parts = snippet("离线消息推送已经送达", "消息");
    assert_eq!(
        parts,
        vec![
            SnippetPart {
                text: "离线".into(),
                hit: false
            },
            SnippetPart {
                text: "消息".into(),
                hit: true
            },
            SnippetPart {
                text: "推送已经送达".into(),
                hit: false
            },
        ]
    );
}

#[test]
fn reopen_is_ready_and_keeps_documents() {
    let dir = tempfile::tempdir().unwrap();
    drop(open_with_sample(dir.path()));
    let (index, opened) = SearchIndex::open(dir.path()).unwrap();
    assert_eq!(opened, Opened::Ready);
    assert_eq!(index.doc_count().unwrap(), 5);
    let _ = SCHEMA_VERSION;
    let _ = VERSION_FILE;
    let _ = Order::Newest;
}
