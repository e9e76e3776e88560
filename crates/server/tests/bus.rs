//! The cross-node bus against a real nats-server: two `Bus` instances stand for two nodes.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hongyan_protocol::{kinds, Envelope};
use hongyan_server::bus::{
    Bus, BusError, Kick, LinkEvent, NoticeBroadcast, UserEvent, UserSubscription,
};
use hongyan_tests::NatsServer;

/// How long a message or a state change may take to show up.
const DEADLINE: Duration = Duration::from_secs(10);
/// A publish while NATS is down must fail at least this fast.
const FAIL_FAST: Duration = Duration::from_secs(1);

fn stored_chat(from: i64, to: i64, fp: &str, seq: i64) -> Envelope {
    let mut env = Envelope::chat(
        from.to_string(),
        to.to_string(),
        fp,
        kinds::TEXT,
        "你好 over NATS",
    );
    env.sm = 1_764_000_000_000 + seq;
    env.seq = Some(seq);
    env
}

/// A delivery published without a store time.
fn plain(envelope: Envelope) -> UserEvent {
    UserEvent::Deliver {
        envelope,
        stored_at: None,
    }
}

async fn two_nodes(nats: &NatsServer) -> (Bus, Bus) {
    let a = Bus::connect(&nats.url(), "node-a")
        .await
        .expect("node A connects");
    let b = Bus::connect(&nats.url(), "node-b")
        .await
        .expect("node B connects");
    (a, b)
}

async fn next_event(sub: &mut UserSubscription) -> UserEvent {
    tokio::time::timeout(DEADLINE, sub.next())
        .await
        .expect("an event within the deadline")
        .expect("subscription still open")
}

async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn envelope_published_on_one_node_reaches_the_subscriber_on_the_other() {
    let nats = NatsServer::start().await;
    let (a, b) = two_nodes(&nats).await;
    assert!(a.is_connected() && b.is_connected());

    let mut sub = b.subscribe_user(7).await.expect("subscribe");
    b.flush().await.expect("subscription registered");
    let env = stored_chat(3, 7, "fp-bus-1", 12);
    a.publish_to_user(7, &env).await.expect("publish");

    assert_eq!(next_event(&mut sub).await, plain(env));
}

#[tokio::test]
async fn dropping_the_subscription_stops_delivery() {
    let nats = NatsServer::start().await;
    let (a, b) = two_nodes(&nats).await;
    let sub = b.subscribe_user(7).await.expect("subscribe 7");
    let mut sentinel = b.subscribe_user(8).await.expect("subscribe 8");
    b.flush().await.expect("subscriptions registered");

    drop(sub);
    // The UNSUB goes out before the flush's round trip, so the server has processed it.
    b.flush().await.expect("unsubscribe registered");
    // The round trip's own echo is counted too.
    let before = b.messages_in();

    a.publish_to_user(7, &stored_chat(3, 7, "fp-gone", 1))
        .await
        .expect("publish to 7");
    let last = stored_chat(3, 8, "fp-sentinel", 2);
    a.publish_to_user(8, &last).await.expect("publish to 8");

    // NATS keeps one publisher's order, so the message for 7 would have arrived first.
    assert_eq!(next_event(&mut sentinel).await, plain(last));
    assert_eq!(
        b.messages_in() - before,
        1,
        "node B still received user 7's message after dropping the subscription"
    );
}

#[tokio::test]
async fn kick_reaches_the_other_node() {
    let nats = NatsServer::start().await;
    let (a, b) = two_nodes(&nats).await;
    let mut sub = b.subscribe_user(7).await.expect("subscribe");
    b.flush().await.expect("subscription registered");

    a.publish_kick(7, 1_764_000_123_456).await.expect("kick");

    assert_eq!(
        next_event(&mut sub).await,
        UserEvent::Kick(Kick {
            node: "node-a".into(),
            first_login_time: 1_764_000_123_456,
        })
    );
}

#[tokio::test]
async fn notice_broadcast_reaches_every_node() {
    let nats = NatsServer::start().await;
    let (a, b) = two_nodes(&nats).await;
    let mut on_a = a.subscribe_broadcast().await.expect("subscribe A");
    let mut on_b = b.subscribe_broadcast().await.expect("subscribe B");
    a.flush().await.expect("A registered");
    b.flush().await.expect("B registered");

    a.publish_notice(kinds::BROADCAST_NOTIFY, 55)
        .await
        .expect("broadcast");

    let expected = NoticeBroadcast {
        node: "node-a".into(),
        typeu: kinds::BROADCAST_NOTIFY,
        notice_id: 55,
    };
    for sub in [&mut on_a, &mut on_b] {
        let got = tokio::time::timeout(DEADLINE, sub.next())
            .await
            .expect("broadcast within the deadline")
            .expect("subscription open");
        assert_eq!(got, expected);
    }
}

#[tokio::test]
async fn nats_outage_fails_fast_and_delivery_resumes_after_restart() {
    let mut nats = NatsServer::start().await;
    let (a, b) = two_nodes(&nats).await;
    let mut sub = b.subscribe_user(7).await.expect("subscribe");
    b.flush().await.expect("subscription registered");

    nats.kill();
    wait_until("node A sees NATS down", || !a.is_connected()).await;
    wait_until("node B sees NATS down", || !b.is_connected()).await;

    let started = Instant::now();
    let err = a
        .publish_to_user(7, &stored_chat(3, 7, "fp-down", 1))
        .await
        .expect_err("publish while NATS is down");
    assert!(matches!(err, BusError::Disconnected), "{err:?}");
    assert!(
        started.elapsed() < FAIL_FAST,
        "took {:?}",
        started.elapsed()
    );

    nats.restart().await.expect("restart nats-server");
    wait_until("node A reconnects", || a.is_connected()).await;
    wait_until("node B reconnects", || b.is_connected()).await;
    // B re-subscribes on reconnect; the flush makes sure the server has it.
    b.flush().await.expect("re-subscription registered");

    let env = stored_chat(3, 7, "fp-after-restart", 2);
    a.publish_to_user(7, &env)
        .await
        .expect("publish after restart");
    assert_eq!(next_event(&mut sub).await, plain(env));
}

#[tokio::test]
async fn connect_to_a_missing_server_is_an_error() {
    let mut nats = NatsServer::start().await;
    let url = nats.url();
    nats.kill();
    let err = Bus::connect(&url, "node-a")
        .await
        .expect_err("nothing listens");
    assert!(matches!(err, BusError::Connect { .. }), "{err:?}");
}

#[tokio::test]
async fn a_stored_delivery_carries_its_store_time_to_the_other_node() {
    let nats = NatsServer::start().await;
    let (a, b) = two_nodes(&nats).await;
    let mut sub = b.subscribe_user(7).await.expect("subscribe");
    b.flush().await.expect("subscription registered");
    // Nanosecond precision survives the trip.
    let stored_at = UNIX_EPOCH + Duration::new(1_764_000_000, 123_456_789);
    let env = stored_chat(3, 7, "fp-timed", 4);
    a.publish_stored(7, &env, stored_at).await.expect("publish");
    assert_eq!(
        next_event(&mut sub).await,
        UserEvent::Deliver {
            envelope: env,
            stored_at: Some(stored_at),
        }
    );
    assert!(stored_at < SystemTime::now());
}

#[tokio::test]
async fn a_bus_started_while_nats_is_down_joins_when_it_comes_up() {
    let mut nats = NatsServer::start().await;
    nats.kill();
    let late = Bus::start(&nats.url(), "node-late")
        .await
        .expect("start does not wait for NATS");
    let mut links = late.link_events();
    assert!(!late.is_connected());
    // Subscribing while down is queued and sent once connected.
    let mut sub = late.subscribe_user(7).await.expect("queued subscribe");
    assert!(matches!(
        late.publish_to_user(7, &stored_chat(3, 7, "fp-lost", 1))
            .await,
        Err(BusError::Disconnected)
    ));

    nats.restart().await.expect("restart nats-server");
    next_link(&mut links, LinkEvent::Connected).await;
    wait_until("the late bus connects", || late.is_connected()).await;
    late.flush().await.expect("queued subscription registered");

    let peer = Bus::connect(&nats.url(), "node-a").await.expect("peer");
    let env = stored_chat(3, 7, "fp-late", 2);
    peer.publish_to_user(7, &env).await.expect("publish");
    assert_eq!(next_event(&mut sub).await, plain(env));
}

#[tokio::test]
async fn link_events_report_an_outage_and_the_recovery() {
    let mut nats = NatsServer::start().await;
    let bus = Bus::connect(&nats.url(), "node-a").await.expect("connect");
    let mut links = bus.link_events();
    nats.kill();
    // The first connection's own event may still be on its way: skip to the outage.
    next_link(&mut links, LinkEvent::Disconnected).await;
    nats.restart().await.expect("restart nats-server");
    next_link(&mut links, LinkEvent::Connected).await;
}

/// Waits for `wanted`, skipping other link events.
async fn next_link(links: &mut tokio::sync::broadcast::Receiver<LinkEvent>, wanted: LinkEvent) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let event = tokio::time::timeout_at(deadline, links.recv())
            .await
            .unwrap_or_else(|_| panic!("no {wanted:?} within the deadline"))
            .expect("link events open");
        if event == wanted {
            return;
        }
    }
}
