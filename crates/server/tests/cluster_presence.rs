//! Deployment-wide presence and notices (docs/DEPLOY.md, "Presence (notes)").
//!
//! First the presence directory over a real nats-server, with `Presence` instances standing
//! for nodes (their sessions are a set the test controls); then two real nodes.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use hongyan_server::{
    bus::Bus,
    cluster::presence::{Flip, LocalSessions, Presence, Timing},
};
use hongyan_tests::NatsServer;
use tokio::{sync::mpsc, task::JoinHandle};
use tokio_util::sync::CancellationToken;

/// How long something may take to show up.
const DEADLINE: Duration = Duration::from_secs(10);
/// Quick beats so expiry is testable in a second or two.
const FAST: Timing = Timing {
    heartbeat: Duration::from_millis(200),
    expiry: Duration::from_millis(700),
};

/// A node's sessions, as the test sets them.
#[derive(Default)]
struct Sessions(Mutex<HashSet<i64>>);

impl Sessions {
    fn set(&self, user: i64, online: bool) {
        let mut users = self.0.lock().unwrap();
        if online {
            users.insert(user);
        } else {
            users.remove(&user);
        }
    }
}

impl LocalSessions for Sessions {
    fn online_here(&self) -> Vec<i64> {
        self.0.lock().unwrap().iter().copied().collect()
    }

    fn is_here(&self, user: i64) -> bool {
        self.0.lock().unwrap().contains(&user)
    }
}

/// One node's presence, running.
struct Node {
    bus: Bus,
    presence: Arc<Presence>,
    sessions: Arc<Sessions>,
    flips: mpsc::UnboundedReceiver<Vec<Flip>>,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl Node {
    async fn start(nats: &NatsServer, name: &str) -> Self {
        let bus = Bus::connect(&nats.url(), name).await.expect("bus");
        let presence = Arc::new(Presence::join(&bus, FAST).await.expect("join"));
        bus.flush().await.expect("subscribed");
        let sessions = Arc::new(Sessions::default());
        let (tx, flips) = mpsc::unbounded_channel();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn({
            let (presence, sessions, shutdown) =
                (presence.clone(), sessions.clone(), shutdown.clone());
            let bus = bus.clone();
            async move { presence.run(&bus, &*sessions, tx, shutdown).await }
        });
        Self {
            bus,
            presence,
            sessions,
            flips,
            shutdown,
            task,
        }
    }

    /// A user logs in or out here.
    fn local(&self, user: i64, online: bool) {
        self.sessions.set(user, online);
        self.presence.local_change(user);
    }

    /// The next flip seen from this node.
    async fn next_flip(&mut self) -> Flip {
        loop {
            let batch = tokio::time::timeout(DEADLINE, self.flips.recv())
                .await
                .expect("a flip within the deadline")
                .expect("presence task running");
            if let Some(flip) = batch.into_iter().next() {
                return flip;
            }
        }
    }

    async fn wait_until(&self, what: &str, cond: impl Fn(&Presence) -> bool) {
        let deadline = Instant::now() + DEADLINE;
        while !cond(&self.presence) {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn flip(user: i64, online: bool) -> Flip {
    Flip { user, online }
}

#[tokio::test]
async fn a_login_and_logout_on_one_node_flip_the_user_on_the_other() {
    let nats = NatsServer::start().await;
    let a = Node::start(&nats, "node-a").await;
    let mut b = Node::start(&nats, "node-b").await;

    a.local(7, true);
    assert_eq!(b.next_flip().await, flip(7, true));
    assert!(b.presence.elsewhere(7));
    assert!(
        !a.presence.elsewhere(7),
        "a node's own users come from its registry"
    );

    a.local(7, false);
    assert_eq!(b.next_flip().await, flip(7, false));
    assert!(!b.presence.elsewhere(7));
}

#[tokio::test]
async fn a_user_moving_between_nodes_stays_online_on_a_third() {
    let nats = NatsServer::start().await;
    let a = Node::start(&nats, "node-a").await;
    let b = Node::start(&nats, "node-b").await;
    let mut c = Node::start(&nats, "node-c").await;
    let on = |nodes: &'static [&'static str]| move |p: &Presence| p.where_online(7) == nodes;

    a.local(7, true);
    assert_eq!(c.next_flip().await, flip(7, true));
    // The user logs in on B; then A's "offline" arrives after B's "online".
    b.local(7, true);
    c.wait_until("7 is on A and B", on(&["node-a", "node-b"]))
        .await;
    a.local(7, false);
    c.wait_until("7 is on B only", on(&["node-b"])).await;
    assert!(c.presence.elsewhere(7));
    assert!(c.flips.try_recv().is_err(), "no offline blip on node C");
}

#[tokio::test]
async fn settling_applies_what_was_received_before_it() {
    let nats = NatsServer::start().await;
    let a = Node::start(&nats, "node-a").await;
    let b = Node::start(&nats, "node-b").await;
    let mut probe = a.bus.nats().subscribe("probe").await.expect("subscribe");
    a.bus.flush().await.expect("subscribed");

    // B says "logging in" and then sends A a probe on the same connection: once A has the
    // probe, it has received the presence message; settling makes it count.
    // (Registered on B first, as the gateway does: B's heartbeats then agree.)
    b.sessions.set(9, true);
    b.presence.logging_in(&b.bus, 9).await;
    b.bus
        .nats()
        .publish("probe", "after".into())
        .await
        .expect("probe");
    tokio::time::timeout(DEADLINE, probe.next())
        .await
        .expect("probe arrives");
    a.presence.settle().await;
    assert_eq!(a.presence.where_online(9), ["node-b"]);
}

#[tokio::test]
async fn a_late_node_learns_who_is_online_from_the_heartbeats() {
    let nats = NatsServer::start().await;
    let a = Node::start(&nats, "node-a").await;
    a.local(1, true);
    a.local(2, true);

    let b = Node::start(&nats, "node-b").await;
    b.wait_until("B knows A's users", |p| p.elsewhere(1) && p.elsewhere(2))
        .await;
    assert!(!b.presence.elsewhere(3));
}

#[tokio::test]
async fn a_silent_node_expires_and_a_leaving_one_is_forgotten_at_once() {
    let nats = NatsServer::start().await;
    let crashing = Node::start(&nats, "node-a").await;
    let leaving = Node::start(&nats, "node-b").await;
    let mut c = Node::start(&nats, "node-c").await;
    crashing.local(1, true);
    leaving.local(2, true);
    c.wait_until("C knows both", |p| p.elsewhere(1) && p.elsewhere(2))
        .await;
    while c.flips.try_recv().is_ok() {}

    // A node that shuts down says so: its users are offline without waiting for expiry.
    let shut_at = Instant::now();
    leaving.shutdown.cancel();
    assert_eq!(c.next_flip().await, flip(2, false));
    assert!(shut_at.elapsed() < FAST.expiry, "{:?}", shut_at.elapsed());
    leaving.task.await.expect("presence task ends at shutdown");

    // A crashed node says nothing: its users expire once it has missed ~3 heartbeats.
    let crash_at = Instant::now();
    crashing.task.abort();
    assert_eq!(c.next_flip().await, flip(1, false));
    let took = crash_at.elapsed();
    assert!(
        took >= FAST.expiry - FAST.heartbeat && took < FAST.expiry * 3,
        "expired after {took:?}"
    );
    assert!(c.presence.nodes().is_empty());
}

#[tokio::test]
async fn presence_comes_back_after_nats_restarts() {
    let mut nats = NatsServer::start().await;
    let a = Node::start(&nats, "node-a").await;
    let mut b = Node::start(&nats, "node-b").await;
    a.local(1, true);
    assert_eq!(b.next_flip().await, flip(1, true));

    nats.kill();
    // While NATS is down, A's user logs out and another logs in; nobody hears it.
    a.local(1, false);
    a.local(2, true);
    tokio::time::sleep(FAST.expiry * 2).await;
    assert!(
        b.presence.elsewhere(1),
        "a node does not expire others while its own link is down"
    );
    nats.restart().await.expect("NATS back");

    // The next heartbeat brings the truth.
    b.wait_until("B has A's state after the outage", |p| {
        !p.elsewhere(1) && p.elsewhere(2)
    })
    .await;
}

// Then real nodes: two `hongyan-server` binaries on one PostgreSQL and one nats-server,
// spoken to with the raw protocol.

mod common;

use common::{deployment::Deployment, Conn, TestServer, PASSWORD};
use hongyan_protocol::{
    api::{NoticeRef, Presence as PresenceSignal},
    kinds, Envelope, PacketType,
};
use hongyan_tests::PgServer;
use serde_json::json;

/// A core_level that gets presence, typing and notice signals.
const NEW: u32 = 261_201;
/// How long "nothing arrives" is watched.
const QUIET: Duration = Duration::from_secs(1);
/// A killed node's users must be offline elsewhere within this (expiry is 7 s).
const EXPIRY_WAIT: Duration = Duration::from_secs(15);

async fn online_at(node: &TestServer, id: &str, token: &str, flt: i64) -> Conn {
    let mut conn = node.ws().await;
    conn.login_at(id, token, flt, NEW).await;
    conn
}

/// The next push of `typeu` within `wait`. Other pushes are skipped: e.g. the friend
/// request's "accepted" event, published by the other node while this session logged in,
/// may arrive live too.
async fn next_of_kind(conn: &mut Conn, typeu: i32, wait: Duration) -> Envelope {
    let until = Instant::now() + wait;
    loop {
        let env = conn
            .recv_within(until.saturating_duration_since(Instant::now()))
            .await
            .unwrap_or_else(|| panic!("no push of typeu {typeu} in time"))
            .expect("connection open");
        if env.packet_type == PacketType::CommonData && env.typeu == typeu {
            return env;
        }
    }
}

/// The next presence signal within `wait` (other pushes skipped).
async fn presence_within(conn: &mut Conn, wait: Duration) -> PresenceSignal {
    let env = next_of_kind(conn, kinds::PRESENCE, wait).await;
    presence_of(&env).unwrap_or_else(|| panic!("bad presence signal: {env:?}"))
}

fn presence_of(env: &Envelope) -> Option<PresenceSignal> {
    (env.packet_type == PacketType::CommonData && env.typeu == kinds::PRESENCE)
        .then(|| serde_json::from_str(env.data_content.as_deref()?).ok())
        .flatten()
}

fn signal(user: &str, online: bool) -> PresenceSignal {
    PresenceSignal {
        user: user.to_owned(),
        online,
    }
}

/// Whether `friend` is online in `token`'s friends list on `node`.
async fn listed_online(node: &TestServer, token: &str, friend: &str) -> bool {
    let (st, list) = node.get("/api/v1/friends", Some(token)).await;
    assert_eq!(st, 200, "{list}");
    list["friends"]
        .as_array()
        .expect("friends")
        .iter()
        .find(|f| f["user_id"] == friend)
        .unwrap_or_else(|| panic!("{friend} not in {list}"))["online"]
        .as_bool()
        .expect("online flag")
}

/// Every frame that arrives within [`QUIET`].
async fn frames_within_quiet(conn: &mut Conn) -> Vec<Envelope> {
    let mut got = Vec::new();
    let until = Instant::now() + QUIET;
    while let Some(Some(env)) = conn
        .recv_within(until.saturating_duration_since(Instant::now()))
        .await
    {
        got.push(env);
    }
    got
}

#[tokio::test]
async fn a_friend_on_the_other_node_sees_the_user_come_and_go() {
    let d = Deployment::start().await;
    let (alice, ta) = d.a.account("alice").await;
    let (bob, tb) = d.a.account("bob").await;
    d.a.befriend((&alice, &ta), (&bob, &tb)).await;
    let mut on_b = online_at(&d.b, &bob, &tb, 1).await;
    assert!(!listed_online(&d.b, &tb, &alice).await);

    // Alice logs in on node A: bob, on node B, gets the signal and sees her online there.
    let mut on_a = online_at(&d.a, &alice, &ta, 7).await;
    assert_eq!(
        presence_within(&mut on_b, DEADLINE).await,
        signal(&alice, true)
    );
    assert!(listed_online(&d.b, &tb, &alice).await);
    // And node A sees bob (on node B) online: typing goes to him across the nodes.
    assert!(listed_online(&d.a, &ta, &bob).await);
    let mut typing = Envelope::new(PacketType::CommonData, alice.clone(), bob.clone());
    typing.typeu = kinds::TYPING;
    typing.data_content = Some(r#"{"typing":true}"#.into());
    on_a.send(&typing).await;
    let got = next_of_kind(&mut on_b, kinds::TYPING, DEADLINE).await;
    assert_eq!(got.from, alice);

    // Alice goes: bob hears it on node B.
    drop(on_a);
    assert_eq!(
        presence_within(&mut on_b, DEADLINE).await,
        signal(&alice, false)
    );
    assert!(!listed_online(&d.b, &tb, &alice).await);
}

#[tokio::test]
async fn a_node_started_later_knows_who_is_online_on_the_others() {
    let (pg, nats) = tokio::join!(PgServer::start(), NatsServer::start());
    let a = TestServer::start_node(&pg.url(), &nats.url(), "node-a").await;
    let (alice, ta) = a.account("alice").await;
    let (bob, tb) = a.account("bob").await;
    a.befriend((&alice, &ta), (&bob, &tb)).await;
    let _on_a = online_at(&a, &alice, &ta, 7).await;

    // Node B starts after alice logged in: it learns her from node A's heartbeats.
    let b = TestServer::start_node(&pg.url(), &nats.url(), "node-b").await;
    let deadline = Instant::now() + DEADLINE;
    while !listed_online(&b, &tb, &alice).await {
        assert!(Instant::now() < deadline, "node B never saw alice online");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // And node A learns bob, who logs in on node B.
    let _on_b = online_at(&b, &bob, &tb, 1).await;
    let deadline = Instant::now() + DEADLINE;
    while !listed_online(&a, &ta, &bob).await {
        assert!(Instant::now() < deadline, "node A never saw bob online");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_killed_nodes_users_go_offline_on_the_other_within_the_expiry() {
    let d = Deployment::start().await;
    let (alice, ta) = d.a.account("alice").await;
    let (bob, tb) = d.a.account("bob").await;
    d.a.befriend((&alice, &ta), (&bob, &tb)).await;
    let mut on_b = online_at(&d.b, &bob, &tb, 1).await;
    let _on_a = online_at(&d.a, &alice, &ta, 7).await;
    assert_eq!(
        presence_within(&mut on_b, DEADLINE).await,
        signal(&alice, true)
    );

    // SIGKILL node A: it says nothing, so node B must notice the silence.
    let pid = d.a.process().pid().expect("node A runs");
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let killed_at = Instant::now();
    assert_eq!(
        presence_within(&mut on_b, EXPIRY_WAIT).await,
        signal(&alice, false)
    );
    assert!(
        killed_at.elapsed() >= Duration::from_secs(4),
        "offline after {:?}: before node A could have expired",
        killed_at.elapsed()
    );
    assert!(!listed_online(&d.b, &tb, &alice).await);
}

#[tokio::test]
async fn a_node_shutting_down_takes_its_users_offline_without_waiting_for_expiry() {
    let mut d = Deployment::start().await;
    let (alice, ta) = d.a.account("alice").await;
    let (bob, tb) = d.a.account("bob").await;
    d.a.befriend((&alice, &ta), (&bob, &tb)).await;
    let mut on_b = online_at(&d.b, &bob, &tb, 1).await;
    let _on_a = online_at(&d.a, &alice, &ta, 7).await;
    assert_eq!(
        presence_within(&mut on_b, DEADLINE).await,
        signal(&alice, true)
    );

    // SIGTERM: node A says it is leaving; node B does not wait for the 7 s expiry.
    let stopping_at = Instant::now();
    assert!(d.a.terminate().await.success());
    assert_eq!(
        presence_within(&mut on_b, DEADLINE).await,
        signal(&alice, false)
    );
    assert!(
        stopping_at.elapsed() < Duration::from_secs(4),
        "offline only after {:?}",
        stopping_at.elapsed()
    );
    assert!(!listed_online(&d.b, &tb, &alice).await);
}

#[tokio::test]
async fn a_user_moving_to_the_other_node_is_no_offline_blip_for_friends_on_either() {
    let d = Deployment::start().await;
    let (alice, ta) = d.a.account("alice").await;
    let (bob, tb) = d.a.account("bob").await;
    let (carol, tc) = d.a.account("carol").await;
    d.a.befriend((&alice, &ta), (&bob, &tb)).await;
    d.a.befriend((&alice, &ta), (&carol, &tc)).await;
    let mut bob_on_b = online_at(&d.b, &bob, &tb, 1).await;
    let mut carol_on_a = online_at(&d.a, &carol, &tc, 1).await;
    let mut first = online_at(&d.a, &alice, &ta, 7).await;
    assert_eq!(
        presence_within(&mut bob_on_b, DEADLINE).await,
        signal(&alice, true)
    );
    assert_eq!(
        presence_within(&mut carol_on_a, DEADLINE).await,
        signal(&alice, true)
    );

    // Alice logs in on node B with another client: node A kicks its session.
    let _second = online_at(&d.b, &alice, &ta, 8).await;
    // (A friend request's "accepted" event, published by the other node while alice logged
    // in, may come first.)
    loop {
        let frame = first.recv().await.expect("kickout before the close");
        if frame.packet_type == PacketType::Kickout {
            break;
        }
        assert_eq!(
            frame.typeu,
            kinds::FRIEND_EVENT,
            "only friend events may come before the kickout: {frame:?}"
        );
    }
    first.expect_closed().await;

    // Neither friend hears "offline": not bob on the new node, not carol on the old one.
    for (conn, who) in [(&mut bob_on_b, "bob"), (&mut carol_on_a, "carol")] {
        let offline: Vec<_> = frames_within_quiet(conn)
            .await
            .iter()
            .filter_map(presence_of)
            .filter(|p| !p.online)
            .collect();
        assert!(offline.is_empty(), "{who} heard {offline:?}");
    }
    assert!(listed_online(&d.a, &tc, &alice).await);
    assert!(listed_online(&d.b, &tb, &alice).await);
}

#[tokio::test]
async fn a_notice_changed_on_one_node_reaches_its_audience_on_both() {
    let d = Deployment::start().await;
    d.a.process()
        .create_admin("root", PASSWORD)
        .await
        .expect("admin");
    let (_, admin) = d.a.login("root").await;
    let (alice, ta) = d.a.account("alice").await;
    let (bob, tb) = d.a.account("bob").await;
    let (carol, tc) = d.a.account("carol").await;
    let mut alice_on_a = online_at(&d.a, &alice, &ta, 1).await;
    let mut bob_on_b = online_at(&d.b, &bob, &tb, 1).await;
    let mut carol_on_b = online_at(&d.b, &carol, &tc, 1).await;
    let notice_of = |env: Envelope| -> i64 {
        serde_json::from_str::<NoticeRef>(env.data_content.as_deref().expect("content"))
            .expect("notice ref")
            .id
    };

    // For alice (node A) and bob (node B) only, created through node A.
    let (st, n) =
        d.a.post_as(
            &admin,
            "/api/v1/admin/broadcasts",
            json!({"title": "Beta", "body": "try it", "audience": [alice, bob]}),
        )
        .await;
    assert_eq!(st, 201, "{n}");
    let id = n["id"].as_i64().expect("id");
    assert_eq!(
        notice_of(bob_on_b.expect_kind(kinds::BROADCAST_NOTIFY).await),
        id
    );
    assert_eq!(
        notice_of(alice_on_a.expect_kind(kinds::BROADCAST_NOTIFY).await),
        id
    );
    carol_on_b.expect_silence(QUIET).await;

    // Published (to everyone) through node B: carol hears it too, and node A's alice.
    let (st, n) =
        d.b.post_as(
            &admin,
            &format!("/api/v1/admin/broadcasts/{id}/publish"),
            json!({}),
        )
        .await;
    assert_eq!(st, 200, "{n}");
    for conn in [&mut carol_on_b, &mut bob_on_b, &mut alice_on_a] {
        assert_eq!(
            notice_of(conn.expect_kind(kinds::BROADCAST_NOTIFY).await),
            id
        );
    }

    // Recalled through node A: everyone, on both nodes, gets 81 once.
    let (st, _) =
        d.a.delete_as(&admin, &format!("/api/v1/admin/broadcasts/{id}"))
            .await;
    assert_eq!(st, 204);
    for conn in [&mut carol_on_b, &mut bob_on_b, &mut alice_on_a] {
        assert_eq!(
            notice_of(conn.expect_kind(kinds::BROADCAST_RECALL).await),
            id
        );
        conn.expect_silence(QUIET).await;
    }
}

#[tokio::test]
async fn with_nats_down_a_notice_still_reaches_the_sessions_of_its_node() {
    let mut d = Deployment::start().await;
    d.a.process()
        .create_admin("root", PASSWORD)
        .await
        .expect("admin");
    let (_, admin) = d.a.login("root").await;
    let (alice, ta) = d.a.account("alice").await;
    let mut alice_on_a = online_at(&d.a, &alice, &ta, 1).await;

    d.nats.kill();
    let deadline = Instant::now() + DEADLINE;
    while d.a.readyz().await.0 != 503 {
        assert!(Instant::now() < deadline, "node A never noticed NATS down");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (st, n) =
        d.a.post_as(
            &admin,
            "/api/v1/admin/broadcasts",
            json!({"title": "Outage", "body": "still here", "audience": "all"}),
        )
        .await;
    assert_eq!(st, 201, "{n}");
    let env = next_of_kind(&mut alice_on_a, kinds::BROADCAST_NOTIFY, DEADLINE).await;
    let got: NoticeRef =
        serde_json::from_str(env.data_content.as_deref().expect("content")).expect("notice ref");
    assert_eq!(Some(got.id), n["id"].as_i64());
}
