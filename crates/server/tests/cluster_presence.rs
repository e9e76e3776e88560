//! Deployment-wide presence and notices (docs/DEPLOY.md, "Presence (notes)").
//!
//! First the presence directory over a real nats-server, with `Presence` instances standing
//! for nodes (their sessions are a set the test controls).

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
