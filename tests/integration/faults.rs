//! Faults: the server killed mid-conversation, a connection that silently stops carrying
//! data, the app quitting with unsent messages. Nothing ACKed is lost, nothing duplicated.

use std::time::Duration;

use hongyan_sdk::MessageStatus;
use hongyan_tests::{acked, assert_texts, FaultProxy, TestClient, TestServer, Via};

#[tokio::test]
async fn server_killed_mid_conversation_loses_and_duplicates_nothing() {
    let mut server = TestServer::start().await;
    let mut alice = TestClient::register(&server, "alice", Via::Ws).await;
    let mut bob = TestClient::register(&server, "bob", Via::Tcp).await;
    alice.befriend(&bob).await;
    alice.wait_connected().await;
    bob.wait_connected().await;

    let texts: Vec<String> = (0..40).map(|i| format!("message {i:02} 消息")).collect();
    let mut sent = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        if i == 15 {
            // A crash, not a shutdown: no chance to flush anything.
            server.kill().await;
        }
        if i == 30 {
            server.restart().await;
        }
        sent.push(alice.send(&bob.user_id, t).await);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Every message ends up acknowledged by the server...
    for m in &sent {
        alice.wait_status(&m.id, acked).await;
    }
    // ...and Bob, who reconnects by himself, has each exactly once, in order.
    let conv = bob.wait_conversation_len(&alice.user_id, texts.len()).await;
    assert_texts(&conv, &texts);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_texts(&bob.conversation(&alice.user_id).await, &texts);
    assert_texts(&alice.conversation(&bob.user_id).await, &texts);
}

#[tokio::test]
async fn dropped_connection_reconnects_and_resends_the_outbox() {
    let server = TestServer::start().await;
    let proxy = FaultProxy::start(server.http_addr()).await;
    let mut alice = TestClient::register_at(&proxy.url(), "", "alice", Via::Ws).await;
    let bob = TestClient::register(&server, "bob", Via::Ws).await;
    alice.befriend(&bob).await;
    alice.wait_connected().await;

    // The link goes silent: what Alice sends now never reaches the server, no ACK comes back.
    proxy.set_blackhole(true);
    let texts: Vec<String> = (0..5).map(|i| format!("through the tunnel {i}")).collect();
    let mut sent = Vec::new();
    for t in &texts {
        sent.push(alice.send(&bob.user_id, t).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    for m in &sent {
        let stored = alice
            .client
            .message(&m.id)
            .await
            .expect("read")
            .expect("stored");
        assert!(
            !acked(&stored.status),
            "nothing can be ACKed through a black hole"
        );
    }
    // Then the connection breaks; the client reconnects and resends its outbox.
    proxy.set_blackhole(false);
    proxy.cut_all();
    for m in &sent {
        alice.wait_status(&m.id, acked).await;
    }
    let conv = bob.wait_conversation_len(&alice.user_id, texts.len()).await;
    assert_texts(&conv, &texts);
}

#[tokio::test]
async fn unsent_messages_survive_an_app_restart_and_a_server_restart() {
    let mut server = TestServer::start().await;
    let alice = TestClient::register(&server, "alice", Via::Tcp).await;
    let bob = TestClient::register(&server, "bob", Via::Ws).await;
    alice.befriend(&bob).await;
    let bob_id = bob.user_id.clone();

    // Graceful shutdown exits cleanly.
    let status = server.terminate().await;
    assert!(status.success(), "SIGTERM should exit 0, got {status:?}");

    // Alice writes while the server is away, then quits the app.
    let texts: Vec<String> = (0..3).map(|i| format!("written offline {i}")).collect();
    let mut sent = Vec::new();
    for t in &texts {
        sent.push(alice.send(&bob_id, t).await);
    }
    for m in &sent {
        let stored = alice
            .client
            .message(&m.id)
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(stored.status, MessageStatus::Sending);
    }
    let alice_restarting = alice;

    server.restart().await;
    // The app starts again: the persisted outbox goes out after the automatic login.
    let mut alice = alice_restarting.restart().await;
    alice.wait_connected().await;
    for m in &sent {
        alice.wait_status(&m.id, acked).await;
    }
    let conv = bob.wait_conversation_len(&alice.user_id, texts.len()).await;
    assert_texts(&conv, &texts);
}

#[tokio::test]
async fn a_message_that_got_no_ack_is_shown_failed_then_resent_after_reconnect() {
    let server = TestServer::start().await;
    let proxy = FaultProxy::start(server.http_addr()).await;
    // QoS gives up after ~2 s; the dead-link timer must not beat it to it.
    let timing = hongyan_sdk::Timing {
        dead_link: Duration::from_secs(15),
        ..hongyan_tests::clients::fast_timing()
    };
    let mut alice =
        TestClient::register_with_timing(&proxy.url(), "", "alice", Via::Ws, timing).await;
    let bob = TestClient::register(&server, "bob", Via::Ws).await;
    alice.befriend(&bob).await;
    alice.wait_connected().await;

    proxy.set_blackhole(true);
    let m = alice.send(&bob.user_id, "are you there?").await;
    // MobileIMSDK's schedule runs out: the user sees it failed...
    alice
        .wait_status(&m.id, |s| {
            matches!(s, MessageStatus::Failed { code: 0, .. })
        })
        .await;
    // ...but nothing is lost: after the link is re-established it goes out by itself.
    proxy.set_blackhole(false);
    proxy.cut_all();
    alice.wait_status(&m.id, acked).await;
    let conv = bob.wait_conversation_len(&alice.user_id, 1).await;
    assert_texts(&conv, &["are you there?".to_string()]);
}
