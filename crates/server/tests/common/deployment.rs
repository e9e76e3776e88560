//! Two real nodes on one PostgreSQL and one nats-server (the multi-node black-box tests).

use std::time::{Duration, Instant};

use hongyan_tests::{NatsServer, PgServer};

use super::TestServer;

/// How long a state change (NATS down or back, readiness) may take to show.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// One PostgreSQL, one nats-server, nodes `node-a` and `node-b`, both ready.
pub struct Deployment {
    pub a: TestServer,
    pub b: TestServer,
    pub nats: NatsServer,
    _pg: PgServer,
}

impl Deployment {
    pub async fn start() -> Self {
        let (pg, nats) = tokio::join!(PgServer::start(), NatsServer::start());
        let a = TestServer::start_node(&pg.url(), &nats.url(), "node-a").await;
        let b = TestServer::start_node(&pg.url(), &nats.url(), "node-b").await;
        for node in [&a, &b] {
            wait_ready(node, true).await;
        }
        Self {
            a,
            b,
            nats,
            _pg: pg,
        }
    }
}

/// Waits until `node`'s `/readyz` says `ready` (with the NATS reason when not).
pub async fn wait_ready(node: &TestServer, ready: bool) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let (status, reasons) = node.readyz().await;
        let nats_down = reasons.iter().any(|r| r == "nats: not connected");
        if ready && status == 200 && reasons.is_empty() {
            return;
        }
        if !ready && status == 503 && nats_down {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "readyz never became {}: {status} {reasons:?}",
            if ready { "ready" } else { "503 nats" }
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
