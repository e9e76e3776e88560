//! `PostgresStore` against a real PostgreSQL (`hongyan_tests::PgServer`): migrations, accounts,
//! tokens and the 1:1 mailbox, with the same expectations as the SQLite store's unit tests,
//! plus what only many connections can show (concurrent migration, seq allocation under
//! concurrent writers).

use hongyan_protocol::now_ms;
use hongyan_server::store::{
    postgres::{migrate, PostgresStore},
    ChatOutcome, NewChat, StoreError,
};
use hongyan_tests::PgServer;

async fn user(store: &PostgresStore, name: &str) -> i64 {
    store
        .create_user(name.into(), name.into(), "hash".into())
        .await
        .expect("create")
}

fn chat(from: i64, to: i64, fp: &str) -> NewChat {
    NewChat {
        from,
        to,
        fp: fp.into(),
        typeu: 1,
        content: format!("body {fp}"),
        friends_only: false,
    }
}

/// The seqs of `user`'s mailbox, in order.
async fn mailbox_seqs(store: &PostgresStore, user: i64) -> Vec<i64> {
    store
        .mailbox_after(user, 0, 10_000)
        .await
        .expect("rows")
        .iter()
        .map(|r| r.seq)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_apply_once_even_when_nodes_connect_together() {
    let pg = PgServer::start().await;
    let url = pg.url();
    // Two nodes starting at once: the advisory lock makes one wait for the other.
    let (a, b) = tokio::join!(PostgresStore::connect(&url), PostgresStore::connect(&url));
    let (a, b) = (a.expect("first connect"), b.expect("second connect"));
    // A third, later connect finds the schema current and changes nothing.
    let c = PostgresStore::connect(&url).await.expect("reconnect");
    let id = user(&a, "alice").await;
    assert_eq!(
        b.user_by_id(id).await.expect("read").map(|u| u.id),
        Some(id)
    );
    assert!(c.user_exists(id).await.expect("exists"));

    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("raw connect");
    tokio::spawn(conn);
    let versions: Vec<i32> = client
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .expect("versions")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        versions,
        (1..=migrate::latest_version()).collect::<Vec<_>>()
    );

    // A database from a newer server is refused, not silently used.
    client
        .execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)",
            &[&(migrate::latest_version() + 1)],
        )
        .await
        .expect("fake newer version");
    let err = PostgresStore::connect(&url)
        .await
        .expect_err("newer schema");
    assert!(err.to_string().contains("newer than this server"), "{err}");
}

#[tokio::test]
async fn a_bad_url_or_unreachable_server_is_a_clear_error() {
    let err = PostgresStore::connect("not a url")
        .await
        .expect_err("bad url");
    assert!(matches!(err, StoreError::PostgresSetup(_)), "{err:?}");
    let pg = PgServer::start().await;
    let url = pg.url();
    drop(pg);
    let err = PostgresStore::connect(&url).await.expect_err("server gone");
    assert!(matches!(err, StoreError::Postgres(_)), "{err:?}");
}

#[tokio::test]
async fn user_ids_start_at_10001_and_names_are_unique_ignoring_case() {
    let pg = PgServer::start().await;
    let store = PostgresStore::connect(&pg.url()).await.expect("connect");
    assert_eq!(user(&store, "alice").await, 10001);
    assert_eq!(user(&store, "bob").await, 10002);
    let dup = store
        .create_user("ALICE".into(), "x".into(), "h".into())
        .await;
    assert!(matches!(dup, Err(StoreError::UsernameTaken)), "{dup:?}");
    // The refused name used up no id.
    assert_eq!(user(&store, "carol").await, 10003);
    let found = store.user_by_username("Alice".into()).await.expect("read");
    let found = found.expect("alice");
    assert_eq!(
        (found.id, found.username.as_str(), found.nickname.as_str()),
        (10001, "alice", "alice")
    );
    assert!(!found.disabled);
    assert_eq!(
        store
            .user_by_id(10002)
            .await
            .expect("r")
            .map(|u| u.username),
        Some("bob".into())
    );
    assert_eq!(store.user_by_id(99999).await.expect("r"), None);
    assert!(store.user_exists(10003).await.expect("exists"));
    assert!(!store.user_exists(0).await.expect("exists"));

    let hits = store.search_users("b".into(), 20).await.expect("search");
    assert_eq!(hits.iter().map(|u| u.id).collect::<Vec<_>>(), [10002]);
    user(&store, "Bea").await;
    user(&store, "b_x").await;
    let names: Vec<String> = store
        .search_users("B".into(), 20)
        .await
        .expect("search")
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["b_x", "Bea", "bob"]);
    // Wildcards in the prefix are literal.
    assert!(store
        .search_users("%".into(), 20)
        .await
        .expect("s")
        .is_empty());
    let literal = store.search_users("b_".into(), 20).await.expect("s");
    assert_eq!(
        literal
            .iter()
            .map(|u| u.username.as_str())
            .collect::<Vec<_>>(),
        ["b_x"]
    );
    assert_eq!(store.search_users("b".into(), 2).await.expect("s").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sign_ups_of_one_name_make_one_account() {
    let pg = PgServer::start().await;
    let store = PostgresStore::connect(&pg.url()).await.expect("connect");
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            let name = if i % 2 == 0 { "dora" } else { "DORA" };
            tokio::spawn(
                async move { store.create_user(name.into(), "d".into(), "h".into()).await },
            )
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        match t.await.expect("join") {
            Ok(_) => created += 1,
            Err(StoreError::UsernameTaken) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(created, 1);
}

#[tokio::test]
async fn tokens_expire_revoke_and_carry_the_account_flags() {
    let pg = PgServer::start().await;
    let store = PostgresStore::connect(&pg.url()).await.expect("connect");
    let a = user(&store, "alice").await;
    let now = now_ms();
    store
        .insert_token("live".into(), a, now + 60_000)
        .await
        .expect("insert");
    store
        .insert_token("old".into(), a, now - 1)
        .await
        .expect("insert");
    let live = store.token_user("live".into(), now).await.expect("read");
    assert_eq!(
        live,
        Some(hongyan_server::store::TokenInfo {
            user_id: a,
            expires_at: now + 60_000,
            disabled: false,
            is_admin: false
        })
    );
    assert_eq!(
        store.token_user("old".into(), now).await.expect("read"),
        None
    );
    assert_eq!(
        store.token_user("nope".into(), now).await.expect("read"),
        None
    );
    // A token for no account is refused by the foreign key.
    assert!(store
        .insert_token("ghost".into(), 99999, now + 1)
        .await
        .is_err());

    assert!(store.set_disabled(a, true).await.expect("disable"));
    assert!(store.set_admin(a, true).await.expect("admin"));
    let flags = store
        .token_user("live".into(), now)
        .await
        .expect("r")
        .expect("t");
    assert!(flags.disabled && flags.is_admin, "{flags:?}");
    assert!(store.user_by_id(a).await.expect("r").expect("u").disabled);
    assert!(!store.set_disabled(99999, true).await.expect("disable"));
    assert!(!store.set_admin(99999, true).await.expect("admin"));

    assert!(store.delete_token("live".into()).await.expect("delete"));
    assert!(!store.delete_token("live".into()).await.expect("delete"));
    assert_eq!(
        store.token_user("live".into(), now).await.expect("read"),
        None
    );
}

#[tokio::test]
async fn seqs_are_per_user_and_increase() {
    let pg = PgServer::start().await;
    let store = PostgresStore::connect(&pg.url()).await.expect("connect");
    let a = user(&store, "alice").await;
    let b = user(&store, "bob").await;
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
    let env = rows[0].to_envelope();
    assert_eq!(
        (env.seq, env.from.as_str(), env.to.as_str()),
        (Some(1), "10001", "10002")
    );
    assert_eq!(store.mailbox_after(b, 2, 100).await.expect("rows").len(), 1);
    assert_eq!(store.mailbox_after(b, 0, 2).await.expect("rows").len(), 2);
    // A note to self is stored once.
    let note = store.store_chat(chat(a, a, "self")).await.expect("store");
    assert_eq!(note.seq(), 4);
    assert_eq!(mailbox_seqs(&store, a).await, [1, 2, 3, 4]);
}

#[tokio::test]
async fn duplicate_fp_is_not_stored_twice() {
    let pg = PgServer::start().await;
    let store = PostgresStore::connect(&pg.url()).await.expect("connect");
    let a = user(&store, "alice").await;
    let b = user(&store, "bob").await;
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

#[tokio::test]
async fn unknown_recipient_or_stranger_stores_nothing() {
    let pg = PgServer::start().await;
    let store = PostgresStore::connect(&pg.url()).await.expect("connect");
    let a = user(&store, "alice").await;
    let err = store.store_chat(chat(a, 99999, "x")).await;
    assert!(matches!(err, Err(StoreError::NoSuchUser)), "{err:?}");
    assert_eq!(store.last_seq(a).await.expect("seq"), 0);
    let b = user(&store, "bob").await;
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
            ..strict
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_get_consecutive_seqs_without_gaps() {
    let pg = PgServer::start().await;
    let url = pg.url();
    // Two "nodes" on one database.
    let node_a = PostgresStore::connect(&url).await.expect("connect");
    let node_b = PostgresStore::connect(&url).await.expect("connect");
    let target = user(&node_a, "target").await;
    let mut senders = Vec::new();
    for i in 0..8 {
        senders.push(user(&node_a, &format!("sender{i}")).await);
    }
    let tasks: Vec<_> = senders
        .iter()
        .enumerate()
        .map(|(i, &from)| {
            let store = if i % 2 == 0 {
                node_a.clone()
            } else {
                node_b.clone()
            };
            tokio::spawn(async move {
                let mut seqs = Vec::new();
                for n in 0..50 {
                    let stored = store
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
        mailbox_seqs(&node_b, target).await,
        (1..=400).collect::<Vec<_>>()
    );
    assert_eq!(node_b.last_seq(target).await.expect("seq"), 400);
    for &from in &senders {
        assert_eq!(
            mailbox_seqs(&node_a, from).await,
            (1..=50).collect::<Vec<_>>()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crossing_writers_and_concurrent_duplicates_neither_deadlock_nor_double_store() {
    let pg = PgServer::start().await;
    let store = PostgresStore::connect(&pg.url()).await.expect("connect");
    let a = user(&store, "alice").await;
    let b = user(&store, "bob").await;
    // a→b and b→a at once lock both users' rows; plus every message sent twice at once.
    let mut tasks = Vec::new();
    for n in 0..40 {
        for (from, to) in [(a, b), (b, a)] {
            for _copy in 0..2 {
                let store = store.clone();
                tasks.push(tokio::spawn(async move {
                    store.store_chat(chat(from, to, &format!("m{n}"))).await
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
        assert_eq!(mailbox_seqs(&store, u).await, (1..=80).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn after_close_calls_fail_with_closed() {
    let pg = PgServer::start().await;
    let store = PostgresStore::connect(&pg.url()).await.expect("connect");
    let a = user(&store, "alice").await;
    store.close().await;
    let err = store.store_chat(chat(a, a, "late")).await;
    assert!(matches!(err, Err(StoreError::Closed)), "{err:?}");
}
