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
    assert_eq!(ids(&index, &Query::text("消息")), ["m4", "m1"]);
}

#[test]
fn deleted_dir_is_missing_and_rebuilds() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("search");
    drop(open_with_sample(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
    let (index, opened) = SearchIndex::open(&dir).unwrap();
    assert_eq!(opened, Opened::Rebuild(RebuildReason::Missing));
    assert_eq!(index.doc_count().unwrap(), 0);
    // Fed again, it answers as before.
    index.add(&sample()).unwrap();
    index.commit().unwrap();
    assert_eq!(ids(&index, &Query::text("推送")), ["m5", "m1"]);
    drop(index);
    assert_eq!(SearchIndex::open(&dir).unwrap().1, Opened::Ready);
}

#[test]
fn corrupt_index_is_reported_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    drop(open_with_sample(dir.path()));
    std::fs::write(dir.path().join("meta.json"), b"{ not json").unwrap();
    let (index, opened) = SearchIndex::open(dir.path()).unwrap();
    assert!(
        matches!(opened, Opened::Rebuild(RebuildReason::Corrupt(_))),
        "{opened:?}"
    );
    assert_eq!(index.doc_count().unwrap(), 0);
    index.add(&sample()).unwrap();
    index.commit().unwrap();
    assert_eq!(index.doc_count().unwrap(), 5);
}

#[test]
fn damaged_segment_file_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    drop(open_with_sample(dir.path()));
    let mut damaged = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "fast" || x == "term") {
            std::fs::write(&path, b"garbage").unwrap();
            damaged += 1;
        }
    }
    assert!(damaged > 0);
    let (_, opened) = SearchIndex::open(dir.path()).unwrap();
    assert!(
        matches!(opened, Opened::Rebuild(RebuildReason::Corrupt(_))),
        "{opened:?}"
    );
}

#[test]
fn old_or_missing_version_file_means_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    drop(open_with_sample(dir.path()));
    let version = dir.path().join(VERSION_FILE);
    assert_eq!(
        std::fs::read_to_string(&version).unwrap().trim(),
        SCHEMA_VERSION.to_string()
    );
    std::fs::write(&version, format!("{}\n", SCHEMA_VERSION - 1)).unwrap();
    let (index, opened) = SearchIndex::open(dir.path()).unwrap();
    assert_eq!(
        opened,
        Opened::Rebuild(RebuildReason::OldVersion(SCHEMA_VERSION - 1))
    );
    assert_eq!(index.doc_count().unwrap(), 0);
    drop(index);
    assert_eq!(SearchIndex::open(dir.path()).unwrap().1, Opened::Ready);
    std::fs::remove_file(&version).unwrap();
    assert_eq!(
        SearchIndex::open(dir.path()).unwrap().1,
        Opened::Rebuild(RebuildReason::OldVersion(0))
    );
}

#[test]
fn delete_removes_and_add_replaces_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let index = open_with_sample(dir.path());
    index
        .delete(&["m1".to_string(), "unknown".to_string()])
        .unwrap();
    // Not visible before the commit.
    assert_eq!(ids(&index, &Query::text("消息")), ["m4", "m1"]);
    index.commit().unwrap();
    assert_eq!(ids(&index, &Query::text("消息")), ["m4"]);
    assert_eq!(index.doc_count().unwrap(), 4);
    // Re-adding an id replaces the document (an edit), it doesn't duplicate it.
    index
        .add(&[doc("m2", "c1", "bob", 2_000, "edited: 消息已撤回")])
        .unwrap();
    index.commit().unwrap();
    assert_eq!(index.doc_count().unwrap(), 4);
    assert_eq!(ids(&index, &Query::text("消息")), ["m4", "m2"]);
    assert!(ids(&index, &Query::text("delivered")).is_empty());
    // UUID ids (stored compactly) delete and come back exactly.
    let uuid = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    index
        .add(&[doc(uuid, "c9", "dave", 9_000, "uuid 文档")])
        .unwrap();
    index.commit().unwrap();
    assert_eq!(ids(&index, &Query::text("文档")), [uuid]);
    index.delete(&[uuid.to_string()]).unwrap();
    index.commit().unwrap();
    assert!(ids(&index, &Query::text("文档")).is_empty());
    index.clear().unwrap();
    assert_eq!(index.doc_count().unwrap(), 0);
}

#[test]
fn filters_narrow_by_conversation_sender_and_date() {
    let dir = tempfile::tempdir().unwrap();
    let index = open_with_sample(dir.path());
    let q = |f: &dyn Fn(&mut Query)| {
        let mut q = Query::text("消息 ");
        f(&mut q);
        ids(&index, &q)
    };
    // 消息 is in m1 (c1, alice, 1000), m4 (c2, carol, 4000), and 推送 etc. elsewhere.
    assert_eq!(q(&|q| q.conversation_id = Some("c1".into())), ["m1"]);
    assert_eq!(
        q(&|q| q.conversation_id = Some("c3".into())),
        Vec::<String>::new()
    );
    assert_eq!(q(&|q| q.sender = Some("carol".into())), ["m4"]);
    assert_eq!(q(&|q| q.from_ms = Some(2_000)), ["m4"]);
    assert_eq!(q(&|q| q.to_ms = Some(1_000)), ["m1"]);
    assert_eq!(
        q(&|q| {
            q.from_ms = Some(1_000);
            q.to_ms = Some(4_000);
        }),
        ["m4", "m1"]
    );
    let hit = &index.search(&Query::text("qos")).unwrap().hits[0];
    assert_eq!(
        (
            hit.conversation_id.as_str(),
            hit.sender.as_str(),
            hit.sent_at
        ),
        ("c2", "alice", 3_000)
    );
}

#[test]
fn order_and_pages() {
    let dir = tempfile::tempdir().unwrap();
    let (index, _) = SearchIndex::open(dir.path()).unwrap();
    // 30 messages with "report"; the one that says it three times is the most relevant.
    let mut docs: Vec<Doc> = (0..30)
        .map(|i| doc(&format!("r{i:02}"), "c", "s", 1_000 + i, "daily report"))
        .collect();
    docs[5].text = "report report report".into();
    // Same sent_at as r29: the tie goes to the larger id.
    docs.push(doc("r99", "c", "s", 1_029, "late report"));
    index.add(&docs).unwrap();
    index.commit().unwrap();

    let mut q = Query::text("report ");
    q.limit = 3;
    let page = index.search(&q).unwrap();
    assert_eq!(page.total, 31);
    let got: Vec<&str> = page.hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(got, ["r99", "r29", "r28"]);
    assert!(page.hits.iter().all(|h| h.score == 0.0));

    q.offset = 29;
    let got = ids(&index, &q);
    assert_eq!(got, ["r01", "r00"]);
    q.offset = 31;
    assert!(ids(&index, &q).is_empty());

    let mut q = Query::text("report ");
    q.order = Order::Relevance;
    q.limit = 2;
    let page = index.search(&q).unwrap();
    assert_eq!(page.hits[0].id, "r05");
    assert!(page.hits[0].score > page.hits[1].score);
    assert_eq!(page.total, 31);

    // Paging through everything newest-first visits each message once, in order.
    let mut seen = Vec::new();
    let mut q = Query::text("report ");
    q.limit = 7;
    loop {
        let page = index.search(&q).unwrap();
        if page.hits.is_empty() {
            break;
        }
        seen.extend(page.hits.into_iter().map(|h| (h.sent_at, h.id)));
        q.offset += 7;
    }
    assert_eq!(seen.len(), 31);
    assert!(seen.windows(2).all(|w| w[0] > w[1]));
}

#[test]
fn any_user_input_is_plain_text_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let index = open_with_sample(dir.path());
    for text in [
        "",
        " ",
        "\"",
        "\"\"",
        "AND",
        "(",
        "a:b",
        "*",
        "~2",
        "[1 TO 5]",
        "😀",
        "\\",
        "-x",
        "title:消息",
        "消息\"",
        "\"离线",
        "ok^2",
        "{}",
        "%_",
        "\u{0}",
    ] {
        let results = index.search(&Query::text(text));
        assert!(results.is_ok(), "{text:?}: {results:?}");
    }
    assert_eq!(index.search(&Query::text("")).unwrap().total, 0);
    assert_eq!(ids(&index, &Query::text("\"离线")), ["m1"]);
    assert_eq!(
        ids(&index, &Query::text("title:消息")),
        Vec::<String>::new()
    );
}

#[test]
fn quoted_text_is_a_phrase() {
    let dir = tempfile::tempdir().unwrap();
    let index = open_with_sample(dir.path());
    assert_eq!(ids(&index, &Query::text("\"the server\"")), ["m2"]);
    assert!(ids(&index, &Query::text("\"server the\"")).is_empty());
    assert_eq!(ids(&index, &Query::text("server the ")), ["m2"]);
}

#[test]
fn index_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SearchIndex>();
    let dir = tempfile::tempdir().unwrap();
    let index = std::sync::Arc::new(open_with_sample(dir.path()));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let index = index.clone();
            std::thread::spawn(move || ids(&index, &Query::text("消息")))
        })
        .collect();
    for r in readers {
        assert_eq!(r.join().unwrap(), ["m4", "m1"]);
    }
}

#[test]
fn serde_names_are_snake_case() {
    let json = serde_json::to_value(Query::text("x")).unwrap();
    assert_eq!(json["order"], "newest");
    assert!(json.get("conversation_id").is_some());
    let q: Query = serde_json::from_str(r#"{"text":"消息","order":"relevance"}"#).unwrap();
    assert_eq!((q.order, q.limit), (Order::Relevance, 20));
    let reason = serde_json::to_value(Opened::Rebuild(RebuildReason::OldVersion(1))).unwrap();
    assert_eq!(reason["rebuild"]["old_version"], 1);
}

#[test]
fn ties_across_segments_are_ordered_by_id_and_page_consistently() {
    let dir = tempfile::tempdir().unwrap();
    let (index, _) = SearchIndex::open(dir.path()).unwrap();
    // Five commits → several segments; every message has the same sent_at.
    for batch in 0..5 {
        let docs: Vec<Doc> = (0..4)
            .map(|i| doc(&format!("t{}{}", i, batch), "c", "s", 7_000, "same time"))
            .collect();
        index.add(&docs).unwrap();
        index.commit().unwrap();
    }
    let mut expected: Vec<String> = (0..4)
        .flat_map(|i| (0..5).map(move |b| format!("t{i}{b}")))
        .collect();
    expected.sort_by(|a, b| b.cmp(a));
    let mut q = Query::text("same ");
    q.limit = 20;
    assert_eq!(ids(&index, &q), expected);
    // Pages cut through the tie group and still line up.
    let mut paged = Vec::new();
    q.limit = 3;
    for offset in (0..20).step_by(3) {
        q.offset = offset;
        paged.extend(ids(&index, &q));
    }
    assert_eq!(paged, expected);
}

#[test]
fn a_fresh_index_still_replaces_re_added_ids() {
    // A new index skips deletes for ids it has not seen; re-adds must still replace.
    let dir = tempfile::tempdir().unwrap();
    let (index, _) = SearchIndex::open(dir.path()).unwrap();
    let docs: Vec<Doc> = (0..2_000)
        .map(|i| doc(&format!("f{i}"), "c", "s", i, "first version"))
        .collect();
    index.add(&docs).unwrap();
    index.commit().unwrap();
    // Re-add half of them within one batch twice, and across commits.
    let again: Vec<Doc> = (0..1_000)
        .map(|i| doc(&format!("f{i}"), "c", "s", i, "second version"))
        .collect();
    index.add(&again).unwrap();
    index.add(&again).unwrap();
    index.commit().unwrap();
    assert_eq!(index.doc_count().unwrap(), 2_000);
    assert_eq!(index.search(&Query::text("second ")).unwrap().total, 1_000);
    assert_eq!(index.search(&Query::text("first ")).unwrap().total, 1_000);
    // After clear() the index is fresh again.
    index.clear().unwrap();
    index.add(&docs[..10]).unwrap();
    index.add(&docs[..10]).unwrap();
    index.commit().unwrap();
    assert_eq!(index.doc_count().unwrap(), 10);
}

#[test]
fn newest_first_is_right_whatever_order_messages_were_indexed_in() {
    // In time order, then history synced late (older), then shuffled: every page must match
    // a plain sort of what was indexed.
    let n = 600i64;
    let mut times: Vec<i64> = (0..n).map(|i| 10_000 + i * 3).collect();
    let (recent, old) = times.split_at_mut(400);
    let mut order: Vec<i64> = recent.to_vec();
    order.extend(old.iter().map(|t| t - 5_000)); // late-synced older messages
                                                 // A deterministic shuffle of a tail section.
    let tail = order.len() - 150;
    for i in 0..150 {
        order.swap(tail + i, tail + (i * 97) % 150);
    }
    let dir = tempfile::tempdir().unwrap();
    let (index, _) = SearchIndex::open(dir.path()).unwrap();
    let docs: Vec<Doc> = order
        .iter()
        .enumerate()
        .map(|(i, &t)| doc(&format!("o{i:04}"), "c", "s", t, "sync test"))
        .collect();
    index.add(&docs[..300]).unwrap();
    index.commit().unwrap();
    index.add(&docs[300..]).unwrap();
    index.commit().unwrap();
    let mut expected: Vec<(i64, String)> = docs.iter().map(|d| (d.sent_at, d.id.clone())).collect();
    expected.sort_by(|a, b| b.cmp(a));
    for (offset, limit) in [(0, 10), (0, 1), (5, 20), (390, 30), (590, 20), (0, 600)] {
        let mut q = Query::text("sync ");
        q.offset = offset;
        q.limit = limit;
        let got: Vec<(i64, String)> = index
            .search(&q)
            .unwrap()
            .hits
            .into_iter()
            .map(|h| (h.sent_at, h.id))
            .collect();
        let want: Vec<(i64, String)> = expected.iter().skip(offset).take(limit).cloned().collect();
        assert_eq!(got, want, "offset {offset} limit {limit}");
    }
}

#[test]
fn a_second_open_of_a_live_index_is_an_error_not_a_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let first = open_with_sample(dir.path());
    let second = SearchIndex::open(dir.path());
    assert!(second.is_err(), "second writer on the same dir must fail");
    // The first handle's index is untouched.
    assert_eq!(first.doc_count().unwrap(), 5);
    assert_eq!(ids(&first, &Query::text("消息")), ["m4", "m1"]);
    drop(first);
    assert_eq!(SearchIndex::open(dir.path()).unwrap().1, Opened::Ready);
}
