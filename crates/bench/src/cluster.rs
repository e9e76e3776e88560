//! The deployment a load run measures: one node on embedded SQLite (the baseline), or N nodes
//! sharing a real PostgreSQL and a real core NATS (docs/DEPLOY.md), all on loopback and all
//! started and stopped by the benchmark (`hongyan_tests::{PgServer, NatsServer}`).
//!
//! Two phases, because SQLite can only be seeded before its node opens it: [`Cluster::prepare`]
//! starts the shared services and hands out a [`Store`] for seeding, then
//! [`Cluster::start_nodes`] starts the nodes.

use std::{path::Path, time::Duration};

use anyhow::{bail, Context, Result};
use hongyan_server::{
    accounts,
    store::{postgres::PostgresStore, Store},
};
use hongyan_tests::{NatsServer, PgServer, TestServer};
use tempfile::TempDir;

use crate::{procs, server};

/// Where the nodes keep their state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// Embedded SQLite in the node's data dir: one node only.
    Sqlite,
    /// A shared PostgreSQL + core NATS for cross-node delivery.
    Postgres,
}

/// A user id and a valid token.
#[derive(Debug, Clone)]
pub struct Account {
    pub user_id: String,
    pub token: String,
}

/// The shared services and the nodes of one run; everything stops on drop.
pub struct Cluster {
    backend: Backend,
    nodes: Vec<TestServer>,
    pg: Option<PgServer>,
    nats: Option<NatsServer>,
    /// The SQLite node's data dir, or the media dir the PostgreSQL nodes share.
    dir: TempDir,
}

impl Cluster {
    /// Starts PostgreSQL and nats-server for [`Backend::Postgres`]; nothing for SQLite.
    pub async fn prepare(backend: Backend) -> Result<Self> {
        let (pg, nats) = match backend {
            Backend::Sqlite => (None, None),
            Backend::Postgres => (
                Some(PgServer::try_start().await.context("starting PostgreSQL")?),
                Some(
                    NatsServer::try_start()
                        .await
                        .context("starting nats-server")?,
                ),
            ),
        };
        Ok(Self {
            backend,
            nodes: Vec::new(),
            pg,
            nats,
            dir: tempfile::Builder::new().prefix("hongyan-load-").tempdir()?,
        })
    }

    /// The storage the nodes will use, for seeding before they start (close it after).
    pub async fn store(&self) -> Result<Store> {
        Ok(match &self.pg {
            None => Store::open(self.dir.path())?,
            Some(pg) => Store::new(PostgresStore::connect(&pg.url()).await?),
        })
    }

    /// Starts `n` nodes with `extra` flags (each on its own free ports).
    pub async fn start_nodes(&mut self, bin: &Path, n: usize, extra: &[&str]) -> Result<()> {
        if n == 0 {
            bail!("a cluster needs at least one node");
        }
        match (&self.pg, &self.nats) {
            (None, _) => {
                if n != 1 {
                    bail!("embedded SQLite serves one node; use --backend postgres for more");
                }
                let node = server::start(bin, self.dir.path(), extra).await?;
                self.nodes.push(node);
            }
            (Some(pg), Some(nats)) => {
                let media = self.dir.path().join("media");
                for k in 0..n {
                    let name = format!("node{k}");
                    // Named connections: pg_stat_activity then tells the nodes apart.
                    let pg_url = format!("{}?application_name={name}", pg.url());
                    let nats_url = nats.url();
                    let mut args = vec!["--nats", &nats_url, "--node-name", &name];
                    let media = media.to_string_lossy();
                    args.extend(["--media-dir", &media]);
                    args.extend_from_slice(extra);
                    let node = TestServer::builder()
                        .bin(bin)
                        .postgres(&pg_url)
                        .args(&args)
                        // Not tower_http: each 503 of /readyz while the bus connects is an ERROR.
                        .log_default("warn,tower_http=off")
                        .try_start()
                        .await
                        .with_context(|| format!("starting {name}"))?;
                    self.nodes.push(node);
                }
            }
            (Some(_), None) => unreachable!("PostgreSQL always comes with NATS here"),
        }
        for node in &self.nodes {
            wait_ready(&node.url()).await?;
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn nodes(&self) -> &[TestServer] {
        &self.nodes
    }

    /// `sqlite, 1 node` / `postgres + nats, 3 nodes`.
    pub fn label(&self) -> String {
        let n = self.nodes.len();
        let nodes = if n == 1 { "node" } else { "nodes" };
        match self.backend {
            Backend::Sqlite => format!("SQLite, {n} {nodes}"),
            Backend::Postgres => format!("PostgreSQL + NATS, {n} {nodes}"),
        }
    }

    /// The shared database's URL (PostgreSQL only).
    pub fn postgres_url(&self) -> Option<String> {
        self.pg.as_ref().map(PgServer::url)
    }

    /// The postmaster's pid (its backends are its children).
    pub fn postgres_pid(&self) -> Option<u32> {
        self.pg.as_ref().map(PgServer::pid)
    }

    /// nats-server's pid (found by its port on the command line).
    pub fn nats_pid(&self) -> Option<u32> {
        let port = self.nats.as_ref()?.port().to_string();
        procs::find_by_args(&["-p", &port]).filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "nats-server")
        })
    }
}

/// Waits for a node's `/readyz` to answer 200: a node listens before its bus has connected,
/// and a login before that would miss cross-node deliveries until it catches up.
async fn wait_ready(url: &str) -> Result<()> {
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
    loop {
        let ready = http.get(format!("{url}/readyz")).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            bail!("{url} not ready within {READY_TIMEOUT:?}");
        }
        // Each 503 is logged by the node at ERROR: poll gently.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How long a node may take to become ready after it listens.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Writes `n` users named `<prefix><i>` with a token each into `store` through the server's
/// own account API, hashing the password once (thousands of argon2 hashes would take minutes,
/// and registering over HTTP would leave argon2's buffers in the node's RSS).
pub async fn seed_accounts(store: &Store, prefix: &str, n: usize) -> Result<Vec<Account>> {
    let hash = accounts::hash_password("load-password").map_err(anyhow::Error::msg)?;
    let expires = hongyan_protocol::now_ms() + 24 * 3600 * 1000;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let id = store
            .create_user(format!("{prefix}{i}"), String::new(), hash.clone())
            .await?;
        let token = accounts::new_token();
        store
            .insert_token(accounts::token_hash(&token), id, expires)
            .await?;
        out.push(Account {
            user_id: id.to_string(),
            token,
        });
    }
    Ok(out)
}

/// Makes each chat pair (accounts 2k and 2k+1) friends, so the run works under the default
/// `--friends-only true` (every message pays the friendship check, as in production).
pub async fn befriend_pairs(store: &Store, accounts: &[Account]) -> Result<()> {
    for pair in accounts.chunks_exact(2) {
        let id = |a: &Account| a.user_id.parse::<i64>().context("numeric user id");
        store.make_friends(id(&pair[0])?, id(&pair[1])?).await?;
    }
    Ok(())
}

/// The node client `i` of a chat run connects to: pair k's two ends on nodes k and k+1
/// (mod n), so with n > 1 every message crosses NATS and every node holds as many clients.
pub fn chat_node(i: usize, nodes: usize) -> usize {
    (i / 2 + (i & 1)) % nodes
}

/// Lets a fresh node settle (allocator, pools) before its baseline RSS is read.
pub const SETTLE: Duration = Duration::from_millis(500);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_straddle_nodes_and_spread_evenly() {
        for nodes in 2..=4 {
            let mut per_node = vec![0; nodes];
            for i in (0..96).step_by(2) {
                let (a, b) = (chat_node(i, nodes), chat_node(i + 1, nodes));
                assert_ne!(a, b, "pair {i} on one node of {nodes}");
                per_node[a] += 1;
                per_node[b] += 1;
            }
            assert!(per_node.iter().all(|c| *c == 96 / nodes), "{per_node:?}");
        }
        assert!((0..10).all(|i| chat_node(i, 1) == 0));
    }
}
