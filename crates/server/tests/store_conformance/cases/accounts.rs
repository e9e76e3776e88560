//! Accounts and tokens.

use hongyan_protocol::now_ms;
use hongyan_server::store::{StoreError, TokenInfo};

use super::user;
use crate::Nodes;

pub async fn user_ids_start_at_10001_and_names_are_unique_ignoring_case(store: &Nodes) {
    assert_eq!(user(store, "alice").await, 10001);
    assert_eq!(user(store, "bob").await, 10002);
    let dup = store
        .create_user("ALICE".into(), "x".into(), "h".into())
        .await;
    assert!(matches!(dup, Err(StoreError::UsernameTaken)), "{dup:?}");
    // The refused name used up no id (and did not spoil the next write).
    assert_eq!(user(store, "carol").await, 10003);
    let found = store.user_by_username("Alice".into()).await.expect("read");
    let found = found.expect("alice");
    assert_eq!(
        (found.id, found.username.as_str(), found.nickname.as_str()),
        (10001, "alice", "alice")
    );
    assert_eq!(found.password_hash, "hash");
    assert!(!found.disabled);
    assert!(found.created_at > 0);
    assert_eq!(
        store
            .user_by_id(10002)
            .await
            .expect("r")
            .map(|u| u.username),
        Some("bob".into())
    );
    assert_eq!(store.user_by_id(99999).await.expect("r"), None);
    assert_eq!(
        store.user_by_username("nobody".into()).await.expect("r"),
        None
    );
    assert!(store.user_exists(10003).await.expect("exists"));
    assert!(!store.user_exists(0).await.expect("exists"));

    let hits = store.search_users("b".into(), 20).await.expect("search");
    assert_eq!(hits.iter().map(|u| u.id).collect::<Vec<_>>(), [10002]);
    user(store, "Bea").await;
    user(store, "b_x").await;
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

pub async fn concurrent_sign_ups_of_one_name_make_one_account(store: &Nodes) {
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let node = if i % 2 == 0 {
                (**store).clone()
            } else {
                store.other_node().clone()
            };
            let name = if i % 2 == 0 { "dora" } else { "DORA" };
            tokio::spawn(async move { node.create_user(name.into(), "d".into(), "h".into()).await })
        })
        .collect();
    let mut created = Vec::new();
    for t in tasks {
        match t.await.expect("join") {
            Ok(id) => created.push(id),
            Err(StoreError::UsernameTaken) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(created.len(), 1, "{created:?}");
    let dora = store.user_by_username("Dora".into()).await.expect("read");
    assert_eq!(dora.map(|u| u.id), created.first().copied());
}

pub async fn tokens_expire_revoke_and_carry_the_account_flags(store: &Nodes) {
    let a = user(store, "alice").await;
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
        Some(TokenInfo {
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
    assert!(store.set_disabled(a, false).await.expect("enable"));
    assert!(store.set_admin(a, false).await.expect("revoke"));
    let flags = store
        .token_user("live".into(), now)
        .await
        .expect("r")
        .expect("t");
    assert!(!flags.disabled && !flags.is_admin, "{flags:?}");

    assert!(store.delete_token("live".into()).await.expect("delete"));
    assert!(!store.delete_token("live".into()).await.expect("delete"));
    assert_eq!(
        store.token_user("live".into(), now).await.expect("read"),
        None
    );
}
