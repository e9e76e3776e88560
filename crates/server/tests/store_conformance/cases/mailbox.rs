//! 1:1 mailboxes: seqs, dedup, refusals, concurrency, close.

use hongyan_server::store::{ChatOutcome, NewChat, StoreError};

use super::{chat, mailbox_seqs, user};
use crate::Nodes;

pub async fn seqs_are_per_user_and_increase(store: &Nodes) {
    let a = user(store, "alice").await;
    let b = user(store, "bob").await;
    let first = store.store_chat(chat(a, b, "f1")).await.expect("store");
    let second = store.store_chat(chat(a, b, "f2")).await.expect("store");
    let third = store.store_chat(chat(b, a, "f3")).await.expect("store");
    assert!(
        matches!(first, ChatOutcome::Stored { seq: 1, .. }),
        "{first:?}"
    );
    assert!(
        matches!(second, ChatOutcome::Stored { seq: 2, .. }),
        "{second:?}"
    );
    // a's mailbox already holds its own two sent copies.
    assert!(
        matches!(third, ChatOutcome::Stored { seq: 3, .. }),
        "{third:?}"
    );
    assert_eq!(store.last_seq(a).await.expect("seq"), 3);
    assert_eq!(store.last_seq(b).await.expect("seq"), 3);
    assert_eq!(store.last_seq(99999).await.expect("seq"), 0);
    let rows = store.mailbox_after(b, 0, 100).await.expect("rows");
    let fps: Vec<_> = rows.iter().map(|r| r.fp.as_str()).collect();
    assert_eq!(fps, ["f1", "f2", "f3"]);
    assert_eq!(rows[0].content, "body f1");
    assert_eq!(rows[0].sm, first.sm());
    assert_eq!((rows[0].from, rows[0].typeu), (a, 1));
    let env = rows[0].to_envelope();
    assert_eq!(
        (env.seq, env.from.as_str(), env.to.as_str()),
        (Some(1), "10001", "10002")
    );
    // The sender's own copy: same message, in its own mailbox at its own seq.
    let own = store.mailbox_after(a, 0, 1).await.expect("rows");
    assert_eq!(
        (own[0].seq, own[0].fp.as_str(), own[0].to.as_str()),
        (1, "f1", "10002")
    );
    assert_eq!(store.mailbox_after(b, 2, 100).await.expect("rows").len(), 1);
    assert_eq!(store.mailbox_after(b, 0, 2).await.expect("rows").len(), 2);
    assert!(store
        .mailbox_after(b, 3, 100)
        .await
        .expect("rows")
        .is_empty());
    // A note to self is stored once.
    let note = store.store_chat(chat(a, a, "self")).await.expect("store");
    assert_eq!(note.seq(), 4);
    assert_eq!(mailbox_seqs(store, a).await, [1, 2, 3, 4]);
}

pub async fn duplicate_fp_is_not_stored_twice(store: &Nodes) {
    let a = user(store, "alice").await;
    let b = user(store, "bob").await;
    let first = store.store_chat(chat(a, b, "same")).await.expect("store");
    let again = store.store_chat(chat(a, b, "same")).await.expect("store");
    assert_eq!(
        again,
        ChatOutcome::Duplicate {
            seq: first.seq(),
            sm: first.sm()
        }
    );
    assert_eq!(store.mailbox_after(b, 0, 100).await.expect("rows").len(), 1);
    // Another sender may reuse the fp.
    let other = store.store_chat(chat(b, a, "same")).await.expect("store");
    assert!(matches!(other, ChatOutcome::Stored { .. }), "{other:?}");
}

pub async fn unknown_recipient_or_stranger_stores_nothing(store: &Nodes) {
    let a = user(store, "alice").await;
    let err = store.store_chat(chat(a, 99999, "x")).await;
    assert!(matches!(err, Err(StoreError::NoSuchUser)), "{err:?}");
    assert_eq!(store.last_seq(a).await.expect("seq"), 0);
    let b = user(store, "bob").await;
    // friends_only: a stranger is refused, a missing user is told apart.
    let strict = NewChat {
        friends_only: true,
        ..chat(a, b, "x")
    };
    let err = store.store_chat(strict.clone()).await;
    assert!(matches!(err, Err(StoreError::NotAllowed)), "{err:?}");
    let err = store
        .store_chat(NewChat {
            to: 99999,
            ..strict.clone()
        })
        .await;
    assert!(matches!(err, Err(StoreError::NoSuchUser)), "{err:?}");
    // A note to self needs no friendship.
    let note = NewChat {
        friends_only: true,
        ..chat(a, a, "note")
    };
    assert!(matches!(
        store.store_chat(note).await,
        Ok(ChatOutcome::Stored { seq: 1, .. })
    ));
    // None of the refusals burnt the fp.
    assert!(matches!(
        store.store_chat(chat(a, b, "x")).await.expect("store"),
        ChatOutcome::Stored { .. }
    ));
    // Friends may chat under friends_only.
    store.make_friends(a, b).await.expect("friends");
    let ok = store
        .store_chat(NewChat {
            fp: "y".into(),
            ..strict
        })
        .await;
    assert!(matches!(ok, Ok(ChatOutcome::Stored { .. })), "{ok:?}");
}

pub async fn a_missing_user_on_either_side_leaves_the_other_mailbox_untouched(store: &Nodes) {
    let a = user(store, "alice").await;
    let b = user(store, "bob").await;
    store.store_chat(chat(a, b, "before")).await.expect("store");
    // The missing user's id above and below the existing one's (seq counters are locked in
    // id order, so either may be the one found missing after the other was advanced), as
    // sender and as recipient.
    for (from, to) in [(99999, a), (a, 5), (5, a)] {
        let err = store
            .store_chat(chat(from, to, &format!("{from}-{to}")))
            .await;
        assert!(matches!(err, Err(StoreError::NoSuchUser)), "{err:?}");
    }
    assert_eq!(store.last_seq(a).await.expect("seq"), 1);
    assert_eq!(mailbox_seqs(store, a).await, [1]);
    // Nothing was claimed either: the fp is still free for a real message.
    assert!(matches!(
        store.store_chat(chat(a, b, "99999-10001")).await,
        Ok(ChatOutcome::Stored { seq: 2, .. })
    ));
}

pub async fn concurrent_writers_get_consecutive_seqs_without_gaps(store: &Nodes) {
    let target = user(store, "target").await;
    let mut senders = Vec::new();
    for i in 0..8 {
        senders.push(user(store, &format!("sender{i}")).await);
    }
    // Half the senders write through each node.
    let tasks: Vec<_> = senders
        .iter()
        .enumerate()
        .map(|(i, &from)| {
            let node = if i % 2 == 0 {
                (**store).clone()
            } else {
                store.other_node().clone()
            };
            tokio::spawn(async move {
                let mut seqs = Vec::new();
                for n in 0..50 {
                    let stored = node
                        .store_chat(chat(from, target, &format!("{from}-{n}")))
                        .await
                        .expect("store");
                    seqs.push(stored.seq());
                }
                seqs
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for t in tasks {
        let one_sender = t.await.expect("join");
        // Each sender's own messages land in the order it sent them.
        assert!(one_sender.windows(2).all(|w| w[0] < w[1]), "{one_sender:?}");
        seqs.extend(one_sender);
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=400).collect::<Vec<_>>());
    assert_eq!(
        mailbox_seqs(store.other_node(), target).await,
        (1..=400).collect::<Vec<_>>()
    );
    assert_eq!(store.other_node().last_seq(target).await.expect("seq"), 400);
    for &from in &senders {
        assert_eq!(
            mailbox_seqs(store, from).await,
            (1..=50).collect::<Vec<_>>()
        );
    }
}

pub async fn crossing_writers_and_concurrent_duplicates_neither_deadlock_nor_double_store(
    store: &Nodes,
) {
    let a = user(store, "alice").await;
    let b = user(store, "bob").await;
    // a→b and b→a at once lock both users' rows; plus every message sent twice at once,
    // once through each node.
    let mut tasks = Vec::new();
    for n in 0..40 {
        for (from, to) in [(a, b), (b, a)] {
            for copy in 0..2 {
                let node = if copy == 0 {
                    (**store).clone()
                } else {
                    store.other_node().clone()
                };
                tasks.push(tokio::spawn(async move {
                    node.store_chat(chat(from, to, &format!("m{n}"))).await
                }));
            }
        }
    }
    let (mut stored, mut duplicates) = (0, 0);
    for t in tasks {
        match t.await.expect("join").expect("store") {
            ChatOutcome::Stored { .. } => stored += 1,
            ChatOutcome::Duplicate { .. } => duplicates += 1,
        }
    }
    assert_eq!((stored, duplicates), (80, 80));
    // Each mailbox: 40 received + 40 own sent copies, seqs 1..=80.
    for u in [a, b] {
        assert_eq!(mailbox_seqs(store, u).await, (1..=80).collect::<Vec<_>>());
    }
}

pub async fn after_close_writes_fail_with_closed(store: &Nodes) {
    let a = user(store, "alice").await;
    store.close().await;
    let err = store.store_chat(chat(a, a, "late")).await;
    assert!(matches!(err, Err(StoreError::Closed)), "{err:?}");
    let err = store
        .create_user("carol".into(), "c".into(), "h".into())
        .await;
    assert!(matches!(err, Err(StoreError::Closed)), "{err:?}");
}
