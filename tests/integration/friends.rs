//! Friends through the real server: a request delivered live and, to an offline user, by
//! sync; accept, decline, remove; the friends-only policy failing a chat to a stranger.

use hongyan_sdk::model::FriendRequestStatus;
use hongyan_sdk::{Event, MessageStatus};
use hongyan_tests::{acked, wait_until, TestClient, TestServer, Via};

fn friend_ids(list: &[hongyan_sdk::model::Friend]) -> Vec<&str> {
    list.iter().map(|f| f.user.user_id.as_str()).collect()
}

#[tokio::test]
async fn a_request_arrives_live_and_accepting_makes_both_friends() {
    let server = TestServer::start().await;
    let mut alice = TestClient::register(&server, "alice", Via::Ws).await;
    let mut bob = TestClient::register(&server, "bob", Via::Tcp).await;
    bob.wait_connected().await;

    let sent = alice
        .client
        .send_friend_request(&bob.user_id, "let's talk")
        .await
        .expect("request");
    assert_eq!(sent.status, FriendRequestStatus::Pending);
    assert_eq!(
        (sent.from.user_id.as_str(), sent.to.user_id.as_str()),
        (alice.user_id.as_str(), bob.user_id.as_str())
    );
    let got = bob
        .wait_for(|e| match e {
            Event::FriendRequestReceived(r) => Some(r.clone()),
            _ => None,
        })
        .await;
    assert_eq!((got.id, got.message.as_str()), (sent.id, "let's talk"));
    assert_eq!(got.from.username, "alice");
    let pending = bob.client.friend_requests().await.expect("requests");
    assert_eq!(pending.incoming, vec![got.clone()]);
    assert!(pending.outgoing.is_empty());
    let mine = alice.client.friend_requests().await.expect("requests");
    assert_eq!(mine.outgoing.len(), 1);

    let accepted = bob
        .client
        .accept_friend_request(got.id)
        .await
        .expect("accept");
    assert_eq!(accepted.status, FriendRequestStatus::Accepted);
    // (Alice's own request also comes back to her as an update, still pending.)
    let updated = alice
        .wait_for(|e| match e {
            Event::FriendRequestUpdated(r) if r.status != FriendRequestStatus::Pending => {
                Some(r.clone())
            }
            _ => None,
        })
        .await;
    assert_eq!(
        (updated.id, updated.status),
        (sent.id, FriendRequestStatus::Accepted)
    );
    alice
        .wait_for(|e| matches!(e, Event::FriendsChanged).then_some(()))
        .await;
    assert_eq!(
        friend_ids(&alice.client.friends().await.expect("friends")),
        [bob.user_id.as_str()]
    );
    let bobs = bob.client.friends().await.expect("friends");
    assert_eq!(friend_ids(&bobs), [alice.user_id.as_str()]);
    assert!(bobs[0].online, "alice is connected");
    assert!(bob
        .client
        .friend_requests()
        .await
        .expect("r")
        .incoming
        .is_empty());
    assert!(
        bob.conversation(&alice.user_id).await.is_empty(),
        "friend events are not chat messages"
    );

    // Friends chat.
    let m = alice.send(&bob.user_id, "now we are friends").await;
    alice.wait_status(&m.id, acked).await;
    assert_eq!(bob.wait_conversation_len(&alice.user_id, 1).await.len(), 1);
}

#[tokio::test]
async fn a_request_to_an_offline_user_arrives_by_sync_and_can_be_declined() {
    let server = TestServer::start().await;
    let mut alice = TestClient::register(&server, "alice", Via::Ws).await;
    let bob = TestClient::register(&server, "bob", Via::Ws).await;
    bob.client.shutdown().await;

    let sent = alice
        .client
        .send_friend_request(&bob.user_id, "")
        .await
        .expect("request");
    let mut bob = bob.restart().await;
    let got = bob
        .wait_for(|e| match e {
            Event::FriendRequestReceived(r) => Some(r.clone()),
            _ => None,
        })
        .await;
    assert_eq!(got.id, sent.id);

    let declined = bob
        .client
        .decline_friend_request(got.id)
        .await
        .expect("decline");
    assert_eq!(declined.status, FriendRequestStatus::Declined);
    let updated = alice
        .wait_for(|e| match e {
            Event::FriendRequestUpdated(r) if r.status != FriendRequestStatus::Pending => {
                Some(r.clone())
            }
            _ => None,
        })
        .await;
    assert_eq!(
        (updated.id, updated.status),
        (sent.id, FriendRequestStatus::Declined)
    );
    assert!(alice.client.friends().await.expect("friends").is_empty());
    assert!(alice
        .client
        .friend_requests()
        .await
        .expect("r")
        .outgoing
        .is_empty());
    // Answering twice is refused.
    assert!(bob.client.accept_friend_request(got.id).await.is_err());
}

#[tokio::test]
async fn removing_a_friend_ends_it_on_both_sides() {
    let server = TestServer::start().await;
    let alice = TestClient::register(&server, "alice", Via::Ws).await;
    let bob = TestClient::register(&server, "bob", Via::Ws).await;
    alice.befriend(&bob).await;
    assert_eq!(bob.client.friends().await.expect("f").len(), 1);
    let bob_store = bob.client.store().await.expect("store");
    assert_eq!(bob_store.friends().expect("cache").len(), 1);

    alice
        .client
        .remove_friend(&bob.user_id)
        .await
        .expect("remove");
    // Bob's cache changes by the server's `removed` event alone.
    wait_until("bob's cached friends are empty", || async {
        bob_store.friends().expect("cache").is_empty()
    })
    .await;
    assert!(bob.client.friends().await.expect("f").is_empty());
    assert!(alice.client.friends().await.expect("f").is_empty());
    assert!(alice.client.remove_friend("not-an-id").await.is_err());
}

#[tokio::test]
async fn friends_only_fails_a_chat_to_a_stranger_with_1101() {
    let server = TestServer::builder().friends_only(true).start().await;
    let mut alice = TestClient::register(&server, "alice", Via::Ws).await;
    let bob = TestClient::register(&server, "bob", Via::Tcp).await;
    alice.wait_connected().await;

    let m = alice.send(&bob.user_id, "hello stranger").await;
    alice
        .wait_status(
            &m.id,
            |s| matches!(s, MessageStatus::Failed { code: 1101, reason } if !reason.is_empty()),
        )
        .await;
    // A note to self is always allowed.
    let note = alice.send(&alice.user_id, "note to self").await;
    alice.wait_status(&note.id, acked).await;

    alice.befriend(&bob).await;
    let m = alice.send(&bob.user_id, "hello friend").await;
    alice.wait_status(&m.id, acked).await;
    let conv = bob.wait_conversation_len(&alice.user_id, 1).await;
    assert_eq!(conv.len(), 1, "the rejected message was never stored");
    assert_eq!(conv[0].content, "hello friend");

    alice
        .client
        .remove_friend(&bob.user_id)
        .await
        .expect("remove");
    let m = alice.send(&bob.user_id, "still there?").await;
    alice
        .wait_status(&m.id, |s| {
            matches!(s, MessageStatus::Failed { code: 1101, .. })
        })
        .await;
}
