//! Many nodes (docs/DEPLOY.md, issue 8): real `hongyan-server` nodes on one real PostgreSQL
//! and one real nats-server, driven by real SDK clients. Users on different nodes befriend and
//! chat (receipts included), a group spans three nodes, an offline user syncs on a third
//! node, a SIGKILLed node's users fail over through the balancer without losing or
//! duplicating anything ACKed, a login on another node kicks the older session, NATS going
//! down delays delivery but never loses an ACKed message, and an image uploaded to one node
//! opens through another (the shared media dir).

use hongyan_protocol::kinds;
use hongyan_sdk::media::cache::sha256_hex;
use hongyan_sdk::media::{sample, ImageQuality};
use hongyan_sdk::model::FriendRequestStatus;
use hongyan_sdk::{ConnectionState, Event, Message, MessageStatus};
use hongyan_tests::{acked, assert_texts, wait_until, TestClient, TestCluster, Via};

/// Waits for the next chat message (text; no system lines) `c` receives, live or by sync,
/// in `conversation` (a 1:1 conversation is the peer's user id).
async fn received(c: &mut TestClient, conversation: &str) -> Message {
    let conversation = conversation.to_owned();
    c.wait_for(move |e| match e {
        Event::MessageReceived(m)
            if m.conversation_id == conversation && m.typeu == kinds::TEXT =>
        {
            Some(m.clone())
        }
        _ => None,
    })
    .await
}

/// Waits until `c` receives the message `id` (skipping earlier events, e.g. of a sync).
async fn received_id(c: &mut TestClient, id: &str) -> Message {
    c.wait_for(|e| match e {
        Event::MessageReceived(m) if m.id == id => Some(m.clone()),
        _ => None,
    })
    .await
}

async fn wait_reconnected(c: &TestClient) {
    wait_until("the client is connected", || async {
        c.client.connection_state() == ConnectionState::Connected
    })
    .await;
}

fn user_id(c: &TestClient) -> i64 {
    c.user_id.parse().expect("numeric user id")
}

/// Texts of a conversation's chat messages (system lines left out).
fn texts(conv: &[Message]) -> Vec<String> {
    conv.iter()
        .filter(|m| m.typeu == kinds::TEXT)
        .map(|m| m.content.clone())
        .collect()
}

#[tokio::test]
async fn friends_on_two_nodes_chat_both_ways_with_receipts() {
    let cluster = TestCluster::start(2).await;
    let mut alice = cluster.register(0, "alice", Via::Ws).await;
    let mut bob = cluster.register(1, "bob", Via::Tcp).await;
    bob.wait_connected().await;

    // The request crosses from node0 to Bob on node1, the answer comes back.
    let request = alice
        .client
        .send_friend_request(&bob.user_id, "hello from node0")
        .await
        .expect("request");
    let got = bob
        .wait_for(|e| match e {
            Event::FriendRequestReceived(r) => Some(r.clone()),
            _ => None,
        })
        .await;
    assert_eq!(got.id, request.id);
    bob.client
        .accept_friend_request(got.id)
        .await
        .expect("accept");
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
        (request.id, FriendRequestStatus::Accepted)
    );
    alice.wait_connected().await;

    let hello = alice.send(&bob.user_id, "hello bob 你好, from node0").await;
    let got = received(&mut bob, &alice.user_id).await;
    assert_eq!(
        (got.id.as_str(), got.content.as_str(), got.from.as_str()),
        (
            hello.id.as_str(),
            "hello bob 你好, from node0",
            alice.user_id.as_str()
        )
    );
    // The delivered receipt crosses back, then the read one.
    alice
        .wait_status(&hello.id, |s| *s == MessageStatus::Delivered)
        .await;
    bob.client.mark_read(&alice.user_id).await.expect("read");
    alice
        .wait_status(&hello.id, |s| *s == MessageStatus::Read)
        .await;

    let reply = bob.send(&alice.user_id, "hi alice, from node1").await;
    let got = received(&mut alice, &bob.user_id).await;
    assert_eq!(
        (got.id.as_str(), got.content.as_str()),
        (reply.id.as_str(), "hi alice, from node1")
    );
    bob.wait_status(&reply.id, |s| *s == MessageStatus::Delivered)
        .await;

    let expected = vec![
        "hello bob 你好, from node0".to_owned(),
        "hi alice, from node1".to_owned(),
    ];
    assert_texts(&alice.conversation(&bob.user_id).await, &expected);
    assert_texts(&bob.conversation(&alice.user_id).await, &expected);
}

#[tokio::test]
async fn a_group_spread_over_three_nodes_chats_in_one_order() {
    let cluster = TestCluster::start(3).await;
    let mut alice = cluster.register(0, "alice", Via::Ws).await;
    let mut bob = cluster.register(1, "bob", Via::Tcp).await;
    let mut carol = cluster.register(2, "carol", Via::Ws).await;
    alice.befriend(&bob).await;
    alice.befriend(&carol).await;
    bob.wait_connected().await;
    carol.wait_connected().await;

    let members = vec![bob.user_id.clone(), carol.user_id.clone()];
    let group = alice
        .client
        .create_group("three nodes", &members)
        .await
        .expect("create group");
    let gid = group.group_id.clone();
    for member in [&mut bob, &mut carol] {
        let seen = member
            .wait_for(|e| match e {
                Event::GroupUpdated(g) => Some(g.clone()),
                _ => None,
            })
            .await;
        assert_eq!(
            (seen.group_id.as_str(), seen.member_count),
            (gid.as_str(), 3)
        );
    }

    // Each member writes in turn; the other two (on other nodes) receive it live.
    let mut expected = Vec::new();
    for round in 0..3 {
        for k in 0..3 {
            let text = format!("round {round} from member {k}");
            let sent = match k {
                0 => alice.send(&gid, &text).await,
                1 => bob.send(&gid, &text).await,
                _ => carol.send(&gid, &text).await,
            };
            let (x, y) = match k {
                0 => (&mut bob, &mut carol),
                1 => (&mut alice, &mut carol),
                _ => (&mut alice, &mut bob),
            };
            for other in [x, y] {
                let got = received(other, &gid).await;
                assert_eq!(
                    (got.id.as_str(), got.content.as_str()),
                    (sent.id.as_str(), text.as_str())
                );
            }
            expected.push(text);
        }
    }
    // Everyone holds the same conversation in the same order.
    for member in [&alice, &bob, &carol] {
        assert_eq!(
            texts(&member.conversation(&gid).await),
            expected,
            "{}",
            member.username
        );
    }
}

#[tokio::test]
async fn an_offline_user_syncs_everything_in_order_on_a_third_node() {
    let cluster = TestCluster::start(3).await;
    let mut alice = cluster.register(0, "alice", Via::Ws).await;
    let bob = cluster.register(1, "bob", Via::Tcp).await;
    let carol = cluster.register(2, "carol", Via::Ws).await;
    alice.befriend(&bob).await;
    carol.befriend(&bob).await;
    // Bob (last seen on node1) quits.
    bob.client.shutdown().await;

    let from_alice: Vec<String> = (0..20)
        .map(|i| format!("alice, while away {i:02}"))
        .collect();
    let from_carol: Vec<String> = (0..10)
        .map(|i| format!("carol, while away {i:02}"))
        .collect();
    let mut sent = Vec::new();
    for (i, text) in from_alice.iter().enumerate() {
        sent.push(alice.send(&bob.user_id, text).await);
        if let Some(text) = from_carol.get(i) {
            carol.send(&bob.user_id, text).await;
        }
    }
    for m in &sent {
        alice.wait_status(&m.id, acked).await;
    }

    // Bob logs in on node2 with a new device: sync brings everything, in order, once.
    let mut bob = cluster.login(2, &bob).await;
    let conv = bob
        .wait_conversation_len(&alice.user_id, from_alice.len())
        .await;
    assert_texts(&conv, &from_alice);
    let conv = bob
        .wait_conversation_len(&carol.user_id, from_carol.len())
        .await;
    assert_texts(&conv, &from_carol);
    // Alice on node0 hears that they arrived.
    let last = sent.last().expect("sent");
    alice
        .wait_status(&last.id, |s| *s == MessageStatus::Delivered)
        .await;

    // And live delivery from node0 reaches Bob on node2 now.
    bob.wait_connected().await;
    let live = alice.send(&bob.user_id, "welcome back").await;
    let got = received_id(&mut bob, &live.id).await;
    assert_eq!(got.content, "welcome back");
    let mut all = from_alice.clone();
    all.push("welcome back".to_owned());
    assert_texts(&bob.conversation(&alice.user_id).await, &all);
    assert_texts(&bob.conversation(&carol.user_id).await, &from_carol);
}

#[tokio::test]
async fn a_killed_node_s_users_fail_over_and_nothing_acked_is_lost_or_doubled() {
    let mut cluster = TestCluster::start(3).await;
    // Both users reach the deployment through its one URL; the balancer puts them on node0.
    cluster.balancer().prefer(0);
    let mut alice = cluster.register_balanced("alice", Via::Ws).await;
    let mut bob = cluster.register_balanced("bob", Via::Tcp).await;
    alice.befriend(&bob).await;
    wait_reconnected(&alice).await;
    wait_reconnected(&bob).await;
    assert_eq!(
        cluster.balancer().forwarded_to(1),
        0,
        "everyone started on node0"
    );

    let n = 30;
    let mut from_alice = Vec::new();
    let mut from_bob = Vec::new();
    for i in 0..n {
        if i == 10 {
            // A crash while both are mid-conversation.
            cluster.kill(0).await;
        }
        from_alice.push(alice.send(&bob.user_id, &format!("alice {i:02}")).await);
        from_bob.push(bob.send(&alice.user_id, &format!("bob {i:02}")).await);
        // Pacing, so messages are in flight when the node dies.
        tokio::time::sleep(std::time::Duration::from_millis(15)).await;
    }

    // Both reconnect by themselves through the balancer, now to node1.
    wait_reconnected(&alice).await;
    wait_reconnected(&bob).await;
    assert!(
        cluster.balancer().forwarded_to(1) > 0,
        "the clients moved to node1"
    );

    // Every message gets its ACK (the outbox resends what the dead node never answered).
    for m in &from_alice {
        alice.wait_status(&m.id, acked).await;
    }
    for m in &from_bob {
        bob.wait_status(&m.id, acked).await;
    }
    let alice_texts: Vec<String> = (0..n).map(|i| format!("alice {i:02}")).collect();
    let bob_texts: Vec<String> = (0..n).map(|i| format!("bob {i:02}")).collect();
    let (alice_id, bob_id) = (alice.user_id.clone(), bob.user_id.clone());
    for (owner, peer) in [(&alice, &bob_id), (&bob, &alice_id)] {
        let conv = owner.wait_conversation_len(peer, 2 * n).await;
        let from = |who: &str| -> Vec<Message> {
            conv.iter().filter(|m| m.from == who).cloned().collect()
        };
        // In both local stores: each message exactly once, each sender's in order.
        assert_texts(&from(&alice_id), &alice_texts);
        assert_texts(&from(&bob_id), &bob_texts);
        assert_eq!(conv.len(), 2 * n, "{}: nothing else", owner.username);
    }

    // And in the database: one mailbox row per message at the recipient.
    let db = cluster.postgres().client().await;
    for (msgs, recipient) in [(&from_alice, user_id(&bob)), (&from_bob, user_id(&alice))] {
        for m in msgs {
            let rows: i64 = db
                .query_one(
                    "SELECT count(*) FROM mailbox WHERE user_id = $1 AND fp = $2",
                    &[&recipient, &m.id],
                )
                .await
                .expect("count mailbox rows")
                .get(0);
            assert_eq!(rows, 1, "message {} stored once at {recipient}", m.content);
        }
    }

    // node0 comes back; a user there and one on node1 reach each other.
    cluster.restart(0).await;
    let mut carol = cluster.register(0, "carol", Via::Ws).await;
    carol.befriend(&alice).await;
    carol.wait_connected().await;
    let hi = alice.send(&carol.user_id, "node0 is back").await;
    let got = received(&mut carol, &alice.user_id).await;
    assert_eq!(got.id, hi.id);
}

#[tokio::test]
async fn a_login_on_another_node_kicks_the_older_session() {
    let cluster = TestCluster::start(3).await;
    let mut alice = cluster.register(0, "alice", Via::Ws).await;
    let mut laptop = cluster.register(1, "bob", Via::Ws).await;
    alice.befriend(&laptop).await;
    laptop.wait_connected().await;

    let mut desktop = cluster.login(2, &laptop).await;
    desktop.wait_connected().await;
    let code = laptop
        .wait_for(|e| match e {
            Event::KickedOut { code, .. } => Some(*code),
            _ => None,
        })
        .await;
    assert_eq!(code, 1, "kicked because the account logged in elsewhere");

    // The newer session (node2) is the one that receives from node0.
    alice.wait_connected().await;
    let m = alice.send(&desktop.user_id, "to the newest device").await;
    let got = received(&mut desktop, &alice.user_id).await;
    assert_eq!(got.id, m.id);
    assert_ne!(
        laptop.client.connection_state(),
        ConnectionState::Connected,
        "a kicked client does not come back"
    );
}

#[tokio::test]
async fn with_nats_down_messages_are_acked_and_arrive_once_it_is_back() {
    let mut cluster = TestCluster::start(2).await;
    let mut alice = cluster.register(0, "alice", Via::Ws).await;
    let mut bob = cluster.register(1, "bob", Via::Tcp).await;
    alice.befriend(&bob).await;
    bob.wait_connected().await;
    let first = alice.send(&bob.user_id, "before").await;
    assert_eq!(received(&mut bob, &alice.user_id).await.id, first.id);

    cluster.kill_nats();
    wait_until("node0 reports NATS down", || async {
        cluster.readyz(0).await.is_err()
    })
    .await;
    let mut expected = vec!["before".to_owned()];
    for i in 0..10 {
        let text = format!("while NATS is down {i}");
        // Stored and ACKed by node0 even though it cannot reach node1.
        let m = alice.send(&bob.user_id, &text).await;
        alice.wait_status(&m.id, acked).await;
        expected.push(text);
    }

    cluster.restart_nats().await;
    // The next message arrives live and its seq shows Bob what he missed: sync fills the gap.
    let after = alice.send(&bob.user_id, "NATS is back").await;
    expected.push("NATS is back".to_owned());
    let conv = bob
        .wait_conversation_len(&alice.user_id, expected.len())
        .await;
    assert_texts(&conv, &expected);
    alice
        .wait_status(&after.id, |s| *s == MessageStatus::Delivered)
        .await;
}

#[tokio::test]
async fn messages_sent_while_nats_is_down_arrive_at_the_next_login() {
    let mut cluster = TestCluster::start(2).await;
    let mut alice = cluster.register(0, "alice", Via::Ws).await;
    let bob = cluster.register(1, "bob", Via::Ws).await;
    alice.befriend(&bob).await;
    wait_reconnected(&alice).await;

    cluster.kill_nats();
    wait_until("node0 reports NATS down", || async {
        cluster.readyz(0).await.is_err()
    })
    .await;
    let texts: Vec<String> = (0..10).map(|i| format!("NATS is down {i}")).collect();
    for t in &texts {
        let m = alice.send(&bob.user_id, t).await;
        alice.wait_status(&m.id, acked).await;
    }
    // Bob quits and starts the app again (NATS still down): login sync brings everything.
    let bob = bob.restart().await;
    let conv = bob.wait_conversation_len(&alice.user_id, texts.len()).await;
    assert_texts(&conv, &texts);
}

#[tokio::test]
async fn an_image_uploaded_to_one_node_opens_through_another() {
    let cluster = TestCluster::start(2).await;
    let alice = cluster.register(0, "alice", Via::Tcp).await;
    let mut bob = cluster.register(1, "bob", Via::Ws).await;
    alice.befriend(&bob).await;
    bob.wait_connected().await;

    let photo = sample::jpeg(&sample::photo(900, 600, 7), 90, None);
    let prepared = alice
        .client
        .prepare_image(photo, ImageQuality::Standard)
        .await
        .expect("prepare");
    // Uploaded over node0's HTTP API into the shared media dir (its row in PostgreSQL)...
    let sent = alice
        .client
        .send_image(&bob.user_id, &prepared)
        .await
        .expect("send");
    let got = received_id(&mut bob, &sent.id).await;
    let content = got.image().expect("an image").clone();
    assert_eq!(content, prepared.content());
    // ...and downloaded by Bob through node1.
    let path = bob
        .client
        .media_path(&content.sha256)
        .await
        .expect("download via node1");
    let bytes = std::fs::read(&path).expect("read the downloaded image");
    assert_eq!(
        (sha256_hex(&bytes), bytes.len() as u64),
        (content.sha256.clone(), content.size)
    );
    let thumb = bob
        .client
        .media_path(&content.thumb.sha256)
        .await
        .expect("thumbnail via node1");
    let thumb = std::fs::read(&thumb).expect("read the downloaded thumbnail");
    assert_eq!(sha256_hex(&thumb), content.thumb.sha256);
    let files = std::fs::read_dir(cluster.media_dir())
        .expect("the shared media dir")
        .count();
    assert!(files > 0, "the upload landed in the shared media dir");
}
