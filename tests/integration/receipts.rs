//! Receipts, presence and typing through the real server: Delivered then Read (live, and
//! for a sender who was offline), friends' online state, typing relayed and throttled.

use std::time::Duration;

use hongyan_protocol::kinds;
use hongyan_sdk::{Event, MessageStatus};
use hongyan_tests::{wait_until, TestClient, TestServer, Via};

#[tokio::test]
async fn the_sender_sees_delivered_then_read() {
    let server = TestServer::start().await;
    let mut alice = TestClient::register(&server, "alice", Via::Ws).await;
    let mut bob = TestClient::register(&server, "bob", Via::Tcp).await;
    alice.befriend(&bob).await;
    bob.wait_connected().await;

    let m = alice.send(&bob.user_id, "did you get this?").await;
    bob.wait_for(|e| matches!(e, Event::MessageReceived(got) if got.id == m.id).then_some(()))
        .await;
    alice
        .wait_status(&m.id, |s| *s == MessageStatus::Delivered)
        .await;
    bob.client.mark_read(&alice.user_id).await.expect("read");
    alice
        .wait_status(&m.id, |s| *s == MessageStatus::Read)
        .await;
    // Marking read again sends nothing new and nothing goes backwards.
    bob.client.mark_read(&alice.user_id).await.expect("read");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        alice
            .client
            .message(&m.id)
            .await
            .expect("q")
            .expect("m")
            .status,
        MessageStatus::Read
    );
    // Receipts are never shown as messages on either side.
    assert_eq!(bob.conversation(&alice.user_id).await.len(), 1);
    assert_eq!(alice.conversation(&bob.user_id).await.len(), 1);
}

#[tokio::test]
async fn receipts_reach_a_sender_who_was_offline_and_never_become_messages() {
    let server = TestServer::start().await;
    let mut alice = TestClient::register(&server, "alice", Via::Ws).await;
    let bob = TestClient::register(&server, "bob", Via::Ws).await;
    alice.befriend(&bob).await;
    bob.client.shutdown().await;

    // Alice writes to Bob, who is away, then quits too.
    let texts: Vec<String> = (0..3).map(|i| format!("while you were away {i}")).collect();
    let mut sent = Vec::new();
    for t in &texts {
        sent.push(alice.send(&bob.user_id, t).await);
    }
    for m in &sent {
        alice
            .wait_status(&m.id, |s| *s == MessageStatus::Sent)
            .await;
    }
    alice.client.shutdown().await;

    // Bob gets them by sync, which sends Alice `delivered`; then he reads them.
    let bob = bob.restart().await;
    assert_eq!(bob.wait_conversation_len(&alice.user_id, 3).await.len(), 3);
    bob.client.mark_read(&alice.user_id).await.expect("read");
    // Bob's receipts are in Alice's mailbox once the server acknowledged them all.
    let store = bob.client.store().await.expect("store");
    wait_until("bob's receipts are acknowledged", || async {
        store.outbox().expect("outbox").is_empty()
    })
    .await;

    // Alice comes back: her messages turn Read by sync.
    let mut alice = alice.restart().await;
    for m in &sent {
        alice
            .wait_status(&m.id, |s| *s == MessageStatus::Read)
            .await;
    }
    // Bob's own receipt copies come back to him by sync: still not messages.
    let bob = bob.restart().await;
    bob.client.sync_now().await.expect("sync");
    let conv = bob.conversation(&alice.user_id).await;
    assert_eq!(conv.len(), 3, "{conv:?}");
    assert!(conv.iter().all(|m| m.typeu != kinds::RECEIPT));
}

#[tokio::test]
async fn friends_see_each_other_come_and_go() {
    let server = TestServer::start().await;
    let mut alice = TestClient::register(&server, "alice", Via::Ws).await;
    let bob = TestClient::register(&server, "bob", Via::Tcp).await;
    alice.befriend(&bob).await;
    let friends = alice.client.friends().await.expect("friends");
    assert!(friends[0].online);
    assert!(alice.client.presence(&bob.user_id));

    bob.client.shutdown().await;
    let bob_id = bob.user_id.clone();
    let (who, online) = alice
        .wait_for(|e| match e {
            Event::PresenceChanged { user_id, online } => Some((user_id.clone(), *online)),
            _ => None,
        })
        .await;
    assert_eq!((who.as_str(), online), (bob_id.as_str(), false));
    assert!(!alice.client.presence(&bob_id));

    let _bob = bob.restart().await;
    alice
        .wait_for(|e| {
            matches!(e, Event::PresenceChanged { user_id, online: true } if *user_id == bob_id)
                .then_some(())
        })
        .await;
    assert!(alice.client.presence(&bob_id));
    assert!(
        !alice.client.presence("999999"),
        "unknown users are offline"
    );
}

#[tokio::test]
async fn typing_is_relayed_once_per_three_seconds() {
    let server = TestServer::start().await;
    let alice = TestClient::register(&server, "alice", Via::Ws).await;
    let mut bob = TestClient::register(&server, "bob", Via::Ws).await;
    alice.befriend(&bob).await;
    bob.wait_connected().await;

    for _ in 0..5 {
        alice
            .client
            .send_typing(&bob.user_id)
            .await
            .expect("typing");
    }
    let (conv, who) = bob
        .wait_for(|e| match e {
            Event::Typing {
                conversation_id,
                user_id,
            } => Some((conversation_id.clone(), user_id.clone())),
            _ => None,
        })
        .await;
    assert_eq!(
        (conv.as_str(), who.as_str()),
        (alice.user_id.as_str(), alice.user_id.as_str())
    );
    // The other four were throttled in the SDK: nothing more arrives for a while.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut more = 0;
    while let Ok(e) = bob.events.try_recv() {
        more += usize::from(matches!(e, Event::Typing { .. }));
    }
    assert_eq!(more, 0, "typing is throttled");
    // After the interval the next one goes out.
    tokio::time::sleep(hongyan_sdk::client::TYPING_INTERVAL).await;
    alice
        .client
        .send_typing(&bob.user_id)
        .await
        .expect("typing");
    bob.wait_for(|e| matches!(e, Event::Typing { .. }).then_some(()))
        .await;
    // Groups get no typing signal; it is a no-op, not an error.
    alice.client.send_typing("g1").await.expect("no-op");
    assert!(
        alice.conversation(&bob.user_id).await.is_empty(),
        "typing is never stored"
    );
}
