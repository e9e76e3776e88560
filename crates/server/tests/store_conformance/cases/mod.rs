//! The cases, one module per area of the `Storage` trait, and helpers they share.

pub mod accounts;
pub mod friends;
pub mod groups;
pub mod mailbox;
pub mod media;
pub mod notices;

use hongyan_protocol::Envelope;
use hongyan_server::store::{NewChat, Store};

/// Creates account `name` (nickname = name).
pub async fn user(store: &Store, name: &str) -> i64 {
    store
        .create_user(name.into(), name.into(), "hash".into())
        .await
        .expect("create")
}

/// A plain chat message (no friendship needed) with body `body <fp>`.
pub fn chat(from: i64, to: i64, fp: &str) -> NewChat {
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
pub async fn mailbox_seqs(store: &Store, user: i64) -> Vec<i64> {
    store
        .mailbox_after(user, 0, 100_000)
        .await
        .expect("rows")
        .iter()
        .map(|r| r.seq)
        .collect()
}

/// Asserts `user`'s mailbox holds exactly seqs 1..=last_seq, and returns that count.
pub async fn assert_gapless(store: &Store, user: i64) -> i64 {
    let last = store.last_seq(user).await.expect("last_seq");
    assert_eq!(
        mailbox_seqs(store, user).await,
        (1..=last).collect::<Vec<_>>(),
        "mailbox of {user}"
    );
    last
}

/// The payload of an event envelope.
pub fn payload<T: serde::de::DeserializeOwned>(env: &Envelope) -> T {
    serde_json::from_str(env.data_content.as_deref().expect("content")).expect("event payload")
}

/// The recipients of `deliveries`, sorted.
pub fn recipients(deliveries: &[(i64, Envelope)]) -> Vec<i64> {
    let mut ids: Vec<i64> = deliveries.iter().map(|d| d.0).collect();
    ids.sort_unstable();
    ids
}

/// Asserts each delivery is the row stored in its recipient's mailbox at its seq.
pub async fn assert_stored(store: &Store, deliveries: &[(i64, Envelope)]) {
    for (user, env) in deliveries {
        let seq = env.seq.expect("a stored delivery has a seq");
        let rows = store.mailbox_after(*user, seq - 1, 1).await.expect("rows");
        let row = rows.first().expect("the delivered row");
        assert_eq!(
            &row.to_envelope(),
            env,
            "delivery to {user} is its mailbox row"
        );
    }
}
