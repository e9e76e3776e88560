//! Friends and friend requests, and the friend events (typeu 60) they write.

use hongyan_protocol::{
    api::{FriendEvent, FriendEventKind, FriendRequestStatus},
    kinds, Envelope,
};
use hongyan_server::store::{NewChat, StoreError};

use super::{assert_gapless, assert_stored, chat, payload, recipients, user};
use crate::Nodes;

/// Checks `deliveries` are one `kind` event to each of `a` and `b` (about the other), with
/// the same fp, stored in their mailboxes.
async fn assert_told_both(
    store: &Nodes,
    deliveries: &[(i64, Envelope)],
    kind: FriendEventKind,
    a: i64,
    b: i64,
) {
    let mut expected = vec![a, b];
    expected.sort_unstable();
    assert_eq!(recipients(deliveries), expected);
    for (to, env) in deliveries {
        assert_eq!(env.typeu, kinds::FRIEND_EVENT);
        assert_eq!((env.from.as_str(), env.to.clone()), ("0", to.to_string()));
        let event: FriendEvent = payload(env);
        assert_eq!(event.event, kind);
        let other = if *to == a { b } else { a };
        assert_eq!(event.user.user_id, other.to_string());
    }
    assert_eq!(
        deliveries[0].1.fp, deliveries[1].1.fp,
        "one event, two copies"
    );
    assert_stored(store, deliveries).await;
}

pub async fn requests_are_sent_answered_and_told_to_both(store: &Nodes) {
    let a = user(store, "alice").await;
    let b = user(store, "bob").await;
    let c = user(store, "carol").await;

    let sent = store
        .send_friend_request(a, b, "hi bob".into())
        .await
        .expect("send");
    assert!(sent.created);
    let request = sent.request.clone();
    assert_eq!(
        (
            request.from.user_id.as_str(),
            request.to.username.as_str(),
            request.message.as_str(),
            request.status
        ),
        ("10001", "bob", "hi bob", FriendRequestStatus::Pending)
    );
    assert_told_both(store, &sent.deliveries, FriendEventKind::Request, a, b).await;
    let event: FriendEvent = payload(&sent.deliveries[0].1);
    assert_eq!(event.request.as_ref(), Some(&request));

    // Asking twice returns the pending request, tells nobody again.
    let twice = store
        .send_friend_request(a, b, "again".into())
        .await
        .expect("send twice");
    assert!(twice.created && twice.deliveries.is_empty());
    assert_eq!(twice.request, request);

    // Lists: incoming for bob, outgoing for alice.
    let bobs = store.friend_requests(b).await.expect("requests");
    assert_eq!(
        (bobs.incoming.clone(), bobs.outgoing.len()),
        (vec![request.clone()], 0)
    );
    let alices = store.friend_requests(a).await.expect("requests");
    assert_eq!(
        (alices.incoming.len(), alices.outgoing.clone()),
        (0, vec![request.clone()])
    );

    // Only the addressee may answer; a missing request is NotFound too.
    let err = store.answer_friend_request(a, request.id, true).await;
    assert!(matches!(err, Err(StoreError::NotFound)), "{err:?}");
    let err = store.answer_friend_request(b, 99999, true).await;
    assert!(matches!(err, Err(StoreError::NotFound)), "{err:?}");

    // A request to nobody is NotFound.
    let err = store.send_friend_request(a, 99999, String::new()).await;
    assert!(matches!(err, Err(StoreError::NotFound)), "{err:?}");

    // carol asks alice; alice declines; a second answer is NotPending.
    let to_alice = store
        .send_friend_request(c, a, String::new())
        .await
        .expect("send");
    let (declined, told) = store
        .answer_friend_request(a, to_alice.request.id, false)
        .await
        .expect("decline");
    assert_eq!(declined.status, FriendRequestStatus::Declined);
    assert_told_both(store, &told, FriendEventKind::Declined, a, c).await;
    let err = store
        .answer_friend_request(a, to_alice.request.id, true)
        .await;
    assert!(matches!(err, Err(StoreError::NotPending)), "{err:?}");
    assert!(!store.is_friend(a, c).await.expect("is_friend"));

    // bob accepts: friends both ways, since the same time.
    let (accepted, told) = store
        .answer_friend_request(b, request.id, true)
        .await
        .expect("accept");
    assert_eq!(accepted.status, FriendRequestStatus::Accepted);
    assert_eq!(accepted.id, request.id);
    assert_told_both(store, &told, FriendEventKind::Accepted, a, b).await;
    assert!(store.is_friend(a, b).await.expect("is_friend"));
    assert!(store.is_friend(b, a).await.expect("is_friend"));
    assert!(store
        .friend_requests(b)
        .await
        .expect("r")
        .incoming
        .is_empty());
    let err = store.send_friend_request(b, a, String::new()).await;
    assert!(matches!(err, Err(StoreError::AlreadyFriends)), "{err:?}");
    let (alices_friends, bobs_friends) = (
        store.friends(a).await.expect("friends"),
        store.friends(b).await.expect("friends"),
    );
    assert_eq!(alices_friends.len(), 1);
    assert_eq!(alices_friends[0].0.username, "bob");
    assert_eq!(bobs_friends[0].0.user_id, a.to_string());
    assert_eq!(
        alices_friends[0].1, bobs_friends[0].1,
        "one friendship, one start"
    );
    assert_eq!(store.friend_ids(a).await.expect("ids"), [b]);

    // Friends, listed by username ignoring case.
    let d = user(store, "Dave").await;
    let e = user(store, "erin").await;
    store.make_friends(e, a).await.expect("friends");
    store.make_friends(a, d).await.expect("friends");
    let names: Vec<String> = store
        .friends(a)
        .await
        .expect("friends")
        .into_iter()
        .map(|(u, _)| u.username)
        .collect();
    assert_eq!(names, ["bob", "Dave", "erin"]);
    let mut ids = store.friend_ids(a).await.expect("ids");
    ids.sort_unstable();
    assert_eq!(ids, [b, d, e]);
    for u in [a, b, c] {
        assert_gapless(store, u).await;
    }
}

pub async fn asking_back_accepts_and_removal_is_told_to_both(store: &Nodes) {
    let a = user(store, "alice").await;
    let b = user(store, "bob").await;
    let mine = store
        .send_friend_request(a, b, "hi".into())
        .await
        .expect("send");
    // bob asks back: that accepts alice's request (created = false).
    let back = store
        .send_friend_request(b, a, "hi too".into())
        .await
        .expect("ask back");
    assert!(!back.created);
    assert_eq!(back.request.id, mine.request.id);
    assert_eq!(back.request.status, FriendRequestStatus::Accepted);
    assert_told_both(store, &back.deliveries, FriendEventKind::Accepted, a, b).await;
    assert!(store.is_friend(a, b).await.expect("is_friend"));
    let lists = store.friend_requests(a).await.expect("requests");
    assert!(lists.incoming.is_empty() && lists.outgoing.is_empty());

    // Removal: both told, both sides gone, friends_only chat refused again.
    let before = store.last_seq(a).await.expect("seq");
    let told = store.remove_friend(b, a).await.expect("remove");
    assert_told_both(store, &told, FriendEventKind::Removed, a, b).await;
    assert!(payload::<FriendEvent>(&told[0].1).request.is_none());
    assert_eq!(store.last_seq(a).await.expect("seq"), before + 1);
    assert!(!store.is_friend(a, b).await.expect("is_friend"));
    assert!(!store.is_friend(b, a).await.expect("is_friend"));
    assert!(store.friends(a).await.expect("friends").is_empty());
    let err = store.remove_friend(a, b).await;
    assert!(matches!(err, Err(StoreError::NotFound)), "{err:?}");
    let strict = NewChat {
        friends_only: true,
        ..chat(a, b, "after")
    };
    let err = store.store_chat(strict).await;
    assert!(matches!(err, Err(StoreError::NotAllowed)), "{err:?}");

    // make_friends is silent: no events, no requests.
    let (seq_a, seq_b) = (
        store.last_seq(a).await.expect("seq"),
        store.last_seq(b).await.expect("seq"),
    );
    store.make_friends(a, b).await.expect("friends");
    store.make_friends(b, a).await.expect("again is fine");
    assert!(store.is_friend(a, b).await.expect("is_friend"));
    assert!(store.is_friend(b, a).await.expect("is_friend"));
    assert_eq!(store.last_seq(a).await.expect("seq"), seq_a);
    assert_eq!(store.last_seq(b).await.expect("seq"), seq_b);
    assert_eq!(store.friend_ids(b).await.expect("ids"), [a]);
}

pub async fn crossing_requests_on_two_nodes_end_as_one_friendship(store: &Nodes) {
    let mut pairs = Vec::new();
    for i in 0..10 {
        let a = user(store, &format!("a{i}")).await;
        let b = user(store, &format!("b{i}")).await;
        pairs.push((a, b));
    }
    // Each pair asks each other at the same moment, from different nodes.
    let mut tasks = Vec::new();
    for &(a, b) in &pairs {
        for (from, to, node) in [
            (a, b, (**store).clone()),
            (b, a, store.other_node().clone()),
        ] {
            tasks.push(tokio::spawn(async move {
                node.send_friend_request(from, to, String::new()).await
            }));
        }
    }
    let mut created = 0;
    for t in tasks {
        let sent = t.await.expect("join").expect("send");
        created += usize::from(sent.created);
        assert!(!sent.deliveries.is_empty());
    }
    // One request per pair was created, the crossing one accepted it.
    assert_eq!(created, pairs.len());
    for &(a, b) in &pairs {
        assert!(store.is_friend(a, b).await.expect("is_friend"));
        assert!(store.is_friend(b, a).await.expect("is_friend"));
        let lists = store.friend_requests(a).await.expect("requests");
        assert!(lists.incoming.is_empty() && lists.outgoing.is_empty());
        // Request + accepted events, in order, in both mailboxes.
        for u in [a, b] {
            assert_eq!(assert_gapless(store, u).await, 2);
        }
    }
}
