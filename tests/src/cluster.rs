//! Many `hongyan-server` nodes as one deployment (docs/DEPLOY.md): one real PostgreSQL, one
//! real nats-server, N nodes sharing both and one media dir, and a [`Balancer`] in front.
//! Nodes are numbered from 0 and named `node<i>`; any of them can be SIGKILLed and restarted
//! (same ports, same database), and NATS can be killed and restarted.

use std::time::Duration;

use tempfile::TempDir;
use tokio::task::JoinSet;

use crate::{
    balancer::{self, Balancer},
    clients::WAIT,
    NatsServer, PgServer, TestClient, TestServer, Via,
};

/// See the module docs. Everything stops on drop.
pub struct TestCluster {
    // Nodes first: they go before the services they use.
    nodes: Vec<TestServer>,
    balancer: Balancer,
    nats: NatsServer,
    pg: PgServer,
    media: TempDir,
    http: reqwest::Client,
}

impl TestCluster {
    /// Starts PostgreSQL, nats-server and `n` nodes (together, as a deployment's nodes start:
    /// their migrations race under the advisory lock); panics with the reason if one fails.
    pub async fn start(n: usize) -> Self {
        assert!(n > 0, "a cluster has nodes");
        let (pg, nats) = tokio::join!(PgServer::start(), NatsServer::start());
        let media = tempfile::Builder::new()
            .prefix("hongyan-cluster-media-")
            .tempdir()
            .expect("media dir");
        let mut starting = JoinSet::new();
        for i in 0..n {
            let builder = node_builder(i, &pg, &nats, &media);
            starting.spawn(async move { (i, builder.try_start().await) });
        }
        let mut nodes: Vec<Option<TestServer>> = (0..n).map(|_| None).collect();
        while let Some(joined) = starting.join_next().await {
            let (i, node) = joined.expect("node start task");
            let node = node
                .unwrap_or_else(|e| panic!("starting node{i}: {e}\nPostgreSQL log:\n{}", pg.log()));
            nodes[i] = Some(node);
        }
        let nodes: Vec<TestServer> = nodes.into_iter().flatten().collect();
        let backends = nodes
            .iter()
            .map(|s| balancer::Upstream {
                http: s.http_addr(),
                tcp: s.tcp_addr(),
            })
            .collect();
        let balancer = Balancer::start(backends).await.expect("start the balancer");
        let cluster = Self {
            nodes,
            balancer,
            nats,
            pg,
            media,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("http client"),
        };
        for i in 0..n {
            cluster.wait_ready(i).await;
        }
        cluster
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn node(&self, i: usize) -> &TestServer {
        &self.nodes[i]
    }

    pub fn postgres(&self) -> &PgServer {
        &self.pg
    }

    pub fn nats(&mut self) -> &mut NatsServer {
        &mut self.nats
    }

    /// The load balancer in front of all nodes.
    pub fn balancer(&self) -> &Balancer {
        &self.balancer
    }

    /// The media dir every node shares.
    pub fn media_dir(&self) -> &std::path::Path {
        self.media.path()
    }

    /// SIGKILLs node `i` (a crash).
    pub async fn kill(&mut self, i: usize) {
        self.nodes[i].kill().await;
    }

    /// Starts node `i` again (same ports, same database) and waits until it is ready.
    pub async fn restart(&mut self, i: usize) {
        self.nodes[i].restart().await;
        self.wait_ready(i).await;
    }

    /// SIGKILLs nats-server (cross-node delivery goes down abruptly).
    pub fn kill_nats(&mut self) {
        self.nats.kill();
    }

    /// Starts nats-server again on its port and waits until every running node is connected
    /// to it again (`/readyz` answers ready).
    pub async fn restart_nats(&mut self) {
        self.nats.restart().await.expect("restart nats-server");
        for i in 0..self.nodes.len() {
            if self.nodes[i].is_running() {
                self.wait_ready(i).await;
            }
        }
    }

    /// `/readyz` of node `i`: `Ok(())` when ready, else the status and body.
    pub async fn readyz(&self, i: usize) -> Result<(), String> {
        let url = format!("{}/readyz", self.nodes[i].url());
        let answer = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = answer.status();
        let body = answer.text().await.unwrap_or_default();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("{status} {body}"))
        }
    }

    /// Waits until node `i` answers `/readyz` with 200 (store reachable, NATS connected).
    pub async fn wait_ready(&self, i: usize) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let last = match self.readyz(i).await {
                Ok(()) => return,
                Err(e) => e,
            };
            assert!(
                tokio::time::Instant::now() < deadline,
                "node{i} not ready after {WAIT:?}: {last}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Registers `username` on node `i` and logs in there over `via`.
    pub async fn register(&self, i: usize, username: &str, via: Via) -> TestClient {
        TestClient::register(&self.nodes[i], username, via).await
    }

    /// Registers `username` through the balancer (the way an app configured with the
    /// deployment's one URL does) and logs in.
    pub async fn register_balanced(&self, username: &str, via: Via) -> TestClient {
        let tcp = self.balancer.tcp_addr().to_string();
        TestClient::register_at(&self.balancer.url(), &tcp, username, via).await
    }

    /// `user`'s account logged in on node `i` from a new device (own data dir).
    pub async fn login(&self, i: usize, user: &TestClient) -> TestClient {
        let node = &self.nodes[i];
        user.another_device_at(&node.url(), &node.tcp_addr().to_string())
            .await
    }
}

fn node_builder(
    i: usize,
    pg: &PgServer,
    nats: &NatsServer,
    media: &TempDir,
) -> crate::ServerBuilder {
    let media = media.path().to_string_lossy().into_owned();
    TestServer::builder().postgres(pg.url()).args([
        "--nats".to_owned(),
        nats.url(),
        "--node-name".to_owned(),
        format!("node{i}"),
        "--media-dir".to_owned(),
        media,
    ])
}
