//! Notices: audience, publish, recall, the change cursor, paging and concurrent writers.

use std::collections::{BTreeMap, BTreeSet};

use hongyan_protocol::api::{Audience, Notice};
use hongyan_server::store::{notices::PAGE_LIMIT, Store, StoreError};

use super::user;
use crate::Nodes;

/// The ids of `notices`, in order.
fn ids(notices: &[Notice]) -> Vec<i64> {
    notices.iter().map(|n| n.id).collect()
}

pub async fn notices_follow_audience_publish_recall_and_the_cursor(store: &Nodes) {
    let a = user(store, "alice").await;
    let b = user(store, "bob").await;
    let c = user(store, "carol").await;
    assert_eq!(store.notices_after(a, 0).await.expect("read"), (vec![], 0));

    // A missing user in the audience refuses the notice.
    let err = store
        .create_notice("t".into(), "b".into(), vec![a, 99999], false)
        .await;
    assert!(matches!(err, Err(StoreError::NoSuchUser)), "{err:?}");
    assert!(store.all_notices().await.expect("all").is_empty());

    let to_all = store
        .create_notice("hello".into(), "everyone".into(), vec![], true)
        .await
        .expect("create");
    assert_eq!(
        (to_all.title.as_str(), to_all.body.as_str(), to_all.recalled),
        ("hello", "everyone", false)
    );
    assert_eq!(to_all.audience, Some(Audience::All));
    assert!(to_all.published_at > 0);
    // A whitelist, repeats ignored, listed by id.
    let pre = store
        .create_notice("pre".into(), "for a and b".into(), vec![b, a, b], false)
        .await
        .expect("create");
    assert_eq!(
        pre.audience,
        Some(Audience::Users(vec![a.to_string(), b.to_string()]))
    );

    // a sees both, oldest change first, without the audience; c sees only the first.
    let (seen, cursor) = store.notices_after(a, 0).await.expect("read");
    assert_eq!(ids(&seen), [to_all.id, pre.id]);
    assert!(seen.iter().all(|n| n.audience.is_none()));
    assert_eq!(
        (seen[0].title.as_str(), seen[0].body.as_str()),
        ("hello", "everyone")
    );
    let (seen_c, cursor_c) = store.notices_after(c, 0).await.expect("read");
    assert_eq!(ids(&seen_c), [to_all.id]);
    assert_eq!(cursor_c, cursor, "the cursor is global");
    // Nothing new: nothing returned, the cursor stays.
    assert_eq!(
        store.notices_after(a, cursor).await.expect("read"),
        (vec![], cursor)
    );
    // A cursor from the future is kept.
    assert_eq!(
        store.notices_after(a, cursor + 10).await.expect("read"),
        (vec![], cursor + 10)
    );

    // Publishing is a new change: c (whose cursor moved past it) now gets it.
    let published = store.publish_notice(pre.id).await.expect("publish");
    assert_eq!(published.audience, Some(Audience::All));
    assert!(published.published_at >= pre.published_at);
    let (seen_c, cursor_c) = store.notices_after(c, cursor).await.expect("read");
    assert_eq!(ids(&seen_c), [pre.id]);
    assert!(cursor_c > cursor);

    // Recall: a new change, seen as recalled; a recalled notice is not published or
    // recalled again; a missing one is NotFound.
    let recalled = store.recall_notice(to_all.id).await.expect("recall");
    assert!(recalled.recalled);
    assert_eq!(recalled.audience, Some(Audience::All));
    let (seen, next) = store.notices_after(b, cursor_c).await.expect("read");
    assert_eq!(ids(&seen), [to_all.id]);
    assert!(seen[0].recalled);
    assert!(next > cursor_c);
    for err in [
        store.recall_notice(to_all.id).await,
        store.publish_notice(to_all.id).await,
        store.publish_notice(99999).await,
        store.recall_notice(99999).await,
    ] {
        assert!(matches!(err, Err(StoreError::NotFound)), "{err:?}");
    }
    // A recalled whitelisted notice reaches only its audience.
    let secret = store
        .create_notice("s".into(), "only c".into(), vec![c], false)
        .await
        .expect("create");
    store.recall_notice(secret.id).await.expect("recall");
    let (seen, _) = store.notices_after(a, next).await.expect("read");
    assert!(seen.is_empty(), "{seen:?}");
    let (seen, _) = store.notices_after(c, next).await.expect("read");
    assert_eq!(ids(&seen), [secret.id]);
    assert!(seen[0].recalled);

    // Admin view: all, newest first, with audiences.
    let all = store.all_notices().await.expect("all");
    assert_eq!(ids(&all), [secret.id, pre.id, to_all.id]);
    assert_eq!(all[0].audience, Some(Audience::Users(vec![c.to_string()])));
    assert_eq!(all[1].audience, Some(Audience::All));
    assert!(all[2].recalled);
    // From the start, a's view holds each notice once, at its latest change.
    let (seen, _) = store.notices_after(a, 0).await.expect("read");
    assert_eq!(ids(&seen), [pre.id, to_all.id]);
}

pub async fn a_full_page_ends_at_its_last_row(store: &Nodes) {
    let a = user(store, "alice").await;
    let total = PAGE_LIMIT as usize + 3;
    let mut created = Vec::new();
    for i in 0..total {
        let n = store
            .create_notice(format!("n{i}"), String::new(), vec![], true)
            .await
            .expect("create");
        created.push(n.id);
    }
    let (first, cursor) = store.notices_after(a, 0).await.expect("page 1");
    assert_eq!(first.len(), PAGE_LIMIT as usize);
    let (rest, end) = store.notices_after(a, cursor).await.expect("page 2");
    assert_eq!(rest.len(), 3);
    let mut seen = ids(&first);
    seen.extend(ids(&rest));
    assert_eq!(seen, created, "every notice once, in change order");
    assert_eq!(
        store.notices_after(a, end).await.expect("end"),
        (vec![], end)
    );
}

/// Reads `user`'s notices from `cursor` until nothing is new, folding them into `seen`
/// (id → latest state); returns the final cursor.
async fn drain(store: &Store, user: i64, mut cursor: i64, seen: &mut BTreeMap<i64, Notice>) -> i64 {
    loop {
        let (page, next) = store.notices_after(user, cursor).await.expect("read");
        assert!(next >= cursor, "the cursor never goes back");
        for n in page {
            seen.insert(n.id, n);
        }
        if next == cursor {
            return cursor;
        }
        cursor = next;
    }
}

pub async fn concurrent_notice_writers_never_let_a_reader_skip_a_change(store: &Nodes) {
    let reader = user(store, "reader").await;
    let vip = user(store, "vip").await;
    // Writers on both nodes create notices to all, and whitelisted ones (to the vip only)
    // that they then publish; the reader polls all the while.
    let mut writers = Vec::new();
    for w in 0..6 {
        let node = if w % 2 == 0 {
            (**store).clone()
        } else {
            store.other_node().clone()
        };
        writers.push(tokio::spawn(async move {
            let mut published = Vec::new();
            for n in 0..15 {
                let notice = node
                    .create_notice(format!("w{w}-{n}"), String::new(), vec![vip], n % 3 != 0)
                    .await
                    .expect("create");
                if n % 3 == 0 {
                    node.publish_notice(notice.id).await.expect("publish");
                }
                published.push(notice.id);
            }
            published
        }));
    }
    let polling = {
        let node = store.other_node().clone();
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop = done.clone();
        let task = tokio::spawn(async move {
            let mut seen = BTreeMap::new();
            let mut cursor = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                cursor = drain(&node, reader, cursor, &mut seen).await;
                tokio::task::yield_now().await;
            }
            // One last pass after every writer finished: only what committed after the
            // last poll may come now; a skipped change would never come.
            cursor = drain(&node, reader, cursor, &mut seen).await;
            (seen, cursor)
        });
        (done, task)
    };
    let mut all_ids = BTreeSet::new();
    for w in writers {
        all_ids.extend(w.await.expect("join"));
    }
    polling.0.store(true, std::sync::atomic::Ordering::SeqCst);
    let (seen, cursor) = polling.1.await.expect("join");
    assert_eq!(
        seen.keys().copied().collect::<BTreeSet<_>>(),
        all_ids,
        "the reader saw every notice (whitelisted ones once published)"
    );
    assert_eq!(all_ids.len(), 90);
    // Its cursor is the newest change; nothing is left behind it.
    let (rest, same) = store.notices_after(reader, cursor).await.expect("read");
    assert!(rest.is_empty() && same == cursor);
    let (everything, _) = store.notices_after(reader, 0).await.expect("read");
    assert_eq!(everything.len(), 90);
}
