//! 1:1 chat through the real server: both ways over WS, TCP and WS↔TCP; the offline
//! recipient; duplicate login. Users befriend each other first, as the friends-only policy
//! requires.

use hongyan_sdk::{Event, MessageStatus};
use hongyan_tests::{acked, assert_texts, TestClient, TestServer, Via};

async fn chat_both_ways(a_via: Via, b_via: Via) {
    let server = TestServer::start().await;
    let mut alice = TestClient::register(&server, "alice", a_via).await;
    let mut bob = TestClient::register(&server, "bob", b_via).await;
    alice.befriend(&bob).await;
    alice.wait_connected().await;
    bob.wait_connected().await;

    let hello = alice.send(&bob.user_id, "hello bob 你好 👋").await;
    assert_eq!(hello.status, MessageStatus::Sending);
    let got = bob
        .wait_for(|e| match e {
            Event::MessageReceived(m) => Some(m.clone()),
            _ => None,
        })
        .await;
    assert_eq!(got.id, hello.id, "the fp is the message id end to end");
    assert_eq!(got.content, "hello bob 你好 👋");
    assert_eq!(got.from, alice.user_id);
    assert_eq!(got.conversation_id, alice.user_id);
    assert!(got.seq.is_some() && got.sent_at > 0);
    alice.wait_status(&hello.id, acked).await;

    let reply = bob.send(&alice.user_id, "hi alice").await;
    let got = alice
        .wait_for(|e| match e {
            Event::MessageReceived(m) => Some(m.clone()),
            _ => None,
        })
        .await;
    assert_eq!(
        (got.id.as_str(), got.content.as_str()),
        (reply.id.as_str(), "hi alice")
    );
    bob.wait_status(&reply.id, acked).await;

    // Both sides see the same two-message conversation, in order.
    let expected = vec!["hello bob 你好 👋".to_string(), "hi alice".to_string()];
    assert_texts(&alice.conversation(&bob.user_id).await, &expected);
    assert_texts(&bob.conversation(&alice.user_id).await, &expected);

    // Unread counts: each received one message.
    let convs = bob.client.conversations().await.expect("conversations");
    let with_alice = convs
        .iter()
        .find(|c| c.id == alice.user_id)
        .expect("conversation");
    assert_eq!(with_alice.unread, 1);
    bob.client
        .mark_read(&alice.user_id)
        .await
        .expect("mark read");
    let convs = bob.client.conversations().await.expect("conversations");
    assert_eq!(
        convs
            .iter()
            .find(|c| c.id == alice.user_id)
            .map(|c| c.unread),
        Some(0)
    );
}

#[tokio::test]
async fn chat_both_ways_over_websocket() {
    chat_both_ways(Via::Ws, Via::Ws).await;
}

#[tokio::test]
async fn chat_both_ways_over_tcp() {
    chat_both_ways(Via::Tcp, Via::Tcp).await;
}

#[tokio::test]
async fn chat_between_websocket_and_tcp() {
    chat_both_ways(Via::Ws, Via::Tcp).await;
}

#[tokio::test]
async fn offline_recipient_gets_everything_in_order_once() {
    let server = TestServer::start().await;
    let mut alice = TestClient::register(&server, "alice", Via::Ws).await;
    let bob = TestClient::register(&server, "bob", Via::Tcp).await;
    alice.befriend(&bob).await;
    let bob_id = bob.user_id.clone();
    // Bob quits the app; his session stays saved.
    bob.client.shutdown().await;

    let texts: Vec<String> = (0..30).map(|i| format!("offline message {i:02}")).collect();
    let mut last = None;
    for t in &texts {
        last = Some(alice.send(&bob_id, t).await);
    }
    let last = last.expect("sent");
    alice.wait_status(&last.id, acked).await;

    // Bob starts the app again: sync by seq brings everything, once, in order.
    let bob = bob.restart().await;
    let conv = bob.wait_conversation_len(&alice.user_id, texts.len()).await;
    assert_texts(&conv, &texts);
    // Wait a little for any stray duplicate delivery, then check again.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_texts(&bob.conversation(&alice.user_id).await, &texts);
    let convs = bob.client.conversations().await.expect("conversations");
    assert_eq!(
        convs
            .iter()
            .find(|c| c.id == alice.user_id)
            .map(|c| c.unread),
        Some(30)
    );
}

#[tokio::test]
async fn duplicate_login_kicks_the_older_client() {
    let server = TestServer::start().await;
    let mut alice = TestClient::register(&server, "alice", Via::Ws).await;
    let mut bob_laptop = TestClient::register(&server, "bob", Via::Ws).await;
    alice.befriend(&bob_laptop).await;
    bob_laptop.wait_connected().await;

    let mut bob_desktop = bob_laptop.another_device().await;
    bob_desktop.wait_connected().await;
    let (code, _reason) = bob_laptop
        .wait_for(|e| match e {
            Event::KickedOut { code, reason } => Some((*code, reason.clone())),
            _ => None,
        })
        .await;
    assert_eq!(code, 1, "kicked because the account logged in elsewhere");

    // The newer client is the one that receives.
    let m = alice
        .send(&bob_desktop.user_id, "to the newest device")
        .await;
    let got = bob_desktop
        .wait_for(|e| match e {
            Event::MessageReceived(m) => Some(m.clone()),
            _ => None,
        })
        .await;
    assert_eq!(got.id, m.id);
    alice.wait_connected().await;
}
