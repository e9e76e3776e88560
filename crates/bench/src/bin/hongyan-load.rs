//! `hongyan-load`: bounded loopback load against a real `hongyan-server` it starts itself.
//!
//!   hongyan-load chat --clients 100 --seconds 10     1:1 messages/s and latency
//!   hongyan-load idle --conns 10000                  server RSS per idle logged-in connection
//!
//! Every run is bounded in connections, messages and time, and targets 127.0.0.1 only.

use std::{
    path::PathBuf,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use hdrhistogram::Histogram;
use hongyan_bench::{
    conn::{connect, Transport},
    server::{self, server_bin, TestServer},
};
use hongyan_protocol::{kinds, Envelope, PacketType, SERVER_ID};
use tokio::{sync::Semaphore, task::JoinSet};

#[derive(Parser)]
#[command(about = "Bounded loopback load generator for hongyan-server")]
struct Cli {
    /// The server binary (default: hongyan-server beside this program).
    #[arg(long, global = true)]
    server_bin: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Pairs of clients chat 1:1 as fast as the server ACKs them.
    Chat {
        /// Number of clients (paired: client i talks to client i^1).
        #[arg(long, default_value_t = 100)]
        clients: usize,
        /// Measured seconds (after a 2 s warm-up).
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Unacknowledged messages each client keeps in flight.
        #[arg(long, default_value_t = 8)]
        window: usize,
        /// Upper bound on messages sent in total.
        #[arg(long, default_value_t = 2_000_000)]
        max_messages: u64,
        #[arg(long, value_enum, default_value_t = Transport::Ws)]
        transport: Transport,
    },
    /// Opens logged-in connections that only heartbeat, and reports server RSS per connection.
    Idle {
        #[arg(long, default_value_t = 10_000)]
        conns: usize,
        #[arg(long, value_enum, default_value_t = Transport::Ws)]
        transport: Transport,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let bin = server_bin(cli.server_bin)?;
    let data = tempfile::tempdir()?;
    match cli.cmd {
        Cmd::Chat {
            clients,
            seconds,
            window,
            max_messages,
            transport,
        } => {
            let server = server::start(&bin, data.path(), &[]).await?;
            let accounts = accounts::create(&server.url(), "chat", clients.max(2) & !1).await?;
            accounts::befriend_pairs(&server.url(), &accounts).await?;
            chat(&server, &accounts, seconds, window, max_messages, transport).await
        }
        Cmd::Idle { conns, transport } => {
            let accounts = accounts::seed(data.path(), "idle", conns).await?;
            let server = server::start(&bin, data.path(), &["--read-timeout-secs", "120"]).await?;
            idle(&server, &accounts, transport).await
        }
    }
}

mod accounts {
    use super::*;

    /// A user id and a valid token.
    pub struct Account {
        pub user_id: String,
        pub token: String,
    }

    /// Registers and logs in `n` users over the HTTP API (argon2id on both: slow, real).
    pub async fn create(url: &str, prefix: &str, n: usize) -> Result<Vec<Account>> {
        let http = reqwest::Client::new();
        let mut set = JoinSet::new();
        let gate = Arc::new(Semaphore::new(4));
        for i in 0..n {
            let (http, url, gate) = (http.clone(), url.to_owned(), gate.clone());
            let username = format!("{prefix}{i}");
            set.spawn(async move {
                let _permit = gate.acquire_owned().await?;
                let body = serde_json::json!({"username": username, "password": "load-password"});
                http.post(format!("{url}/api/v1/register"))
                    .json(&body)
                    .send()
                    .await?
                    .error_for_status()?;
                let login: serde_json::Value = http
                    .post(format!("{url}/api/v1/login"))
                    .json(&body)
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                let field = |k: &str| login[k].as_str().map(str::to_owned).context("login reply");
                anyhow::Ok((
                    i,
                    Account {
                        user_id: field("user_id")?,
                        token: field("token")?,
                    },
                ))
            });
        }
        let mut out: Vec<Option<Account>> = (0..n).map(|_| None).collect();
        while let Some(res) = set.join_next().await {
            let (i, acc) = res??;
            out[i] = Some(acc);
        }
        out.into_iter()
            .map(|a| a.context("missing account"))
            .collect()
    }

    /// Makes each chat pair (client i and i^1) friends through the HTTP API (request +
    /// accept), so the run works whether or not the server enforces friends_only.
    pub async fn befriend_pairs(url: &str, accounts: &[Account]) -> Result<()> {
        let http = reqwest::Client::new();
        for pair in accounts.chunks_exact(2) {
            let (a, b) = (&pair[0], &pair[1]);
            let req: serde_json::Value = http
                .post(format!("{url}/api/v1/friends/requests"))
                .bearer_auth(&a.token)
                .json(&serde_json::json!({"to": b.user_id}))
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            let id = req["id"].as_i64().context("friend request id")?;
            http.post(format!("{url}/api/v1/friends/requests/{id}/accept"))
                .bearer_auth(&b.token)
                .send()
                .await?
                .error_for_status()?;
        }
        Ok(())
    }

    /// Writes `n` users with tokens straight into a fresh data dir through the server's own
    /// store and account API, hashing the password once: 10k argon2 hashes would take minutes.
    pub async fn seed(data_dir: &std::path::Path, prefix: &str, n: usize) -> Result<Vec<Account>> {
        use hongyan_server::{accounts, Store};
        let store = Store::open(data_dir)?;
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
        store.close().await;
        Ok(out)
    }
}

async fn chat(
    server: &TestServer,
    accounts: &[accounts::Account],
    seconds: u64,
    window: usize,
    max_messages: u64,
    transport: Transport,
) -> Result<()> {
    let n = accounts.len();
    let epoch = Instant::now();
    let warmup = Duration::from_secs(2);
    let stop = Arc::new(AtomicBool::new(false));
    let budget = Arc::new(AtomicU64::new(max_messages));
    let sent = Arc::new(AtomicU64::new(0));
    let mut conns = Vec::with_capacity(n);
    let (http, tcp) = (server.http_addr(), server.tcp_addr());
    for acc in accounts {
        conns.push(connect(transport, http, tcp, &acc.user_id, &acc.token).await?);
    }
    println!("{n} clients logged in over {transport:?}; warm-up {warmup:?}, measuring {seconds} s");

    let mut set = JoinSet::new();
    for (i, conn) in conns.into_iter().enumerate() {
        let me = accounts[i].user_id.clone();
        let peer = accounts[i ^ 1].user_id.clone();
        let (stop, budget, sent) = (stop.clone(), budget.clone(), sent.clone());
        set.spawn(async move {
            let mut rx = conn.rx;
            let tx = conn.tx;
            let permits = Arc::new(Semaphore::new(window));
            let writer = {
                let (tx, permits, me) = (tx.clone(), permits.clone(), me.clone());
                tokio::spawn(async move {
                    let mut k = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let Ok(p) = permits.acquire().await else {
                            break;
                        };
                        p.forget();
                        if budget
                            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                                b.checked_sub(1)
                            })
                            .is_err()
                        {
                            break;
                        }
                        // The fp carries the send time, so ACK and delivery latency need no map.
                        let fp = format!("{i}-{k}-{}", epoch.elapsed().as_nanos());
                        k += 1;
                        let env =
                            Envelope::chat(&me, &peer, fp, kinds::TEXT, "load test message 你好");
                        if tx.send(env).await.is_err() {
                            break;
                        }
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                })
            };
            let mut ack_us = Histogram::<u64>::new(3)?;
            let mut e2e_us = Histogram::<u64>::new(3)?;
            let mut delivered = 0u64;
            let deadline = warmup + Duration::from_secs(seconds) + Duration::from_secs(3);
            loop {
                let left = deadline.saturating_sub(epoch.elapsed());
                let Ok(Some(env)) = tokio::time::timeout(left, rx.recv()).await else {
                    break;
                };
                let now = epoch.elapsed();
                let sent_at = |fp: &str| {
                    fp.rsplit('-')
                        .next()
                        .and_then(|t| t.parse::<u64>().ok())
                        .map(Duration::from_nanos)
                };
                let in_window = now >= warmup && now < warmup + Duration::from_secs(seconds);
                match env.packet_type {
                    PacketType::Ack => {
                        permits.add_permits(1);
                        if let (true, Some(t)) =
                            (in_window, env.data_content.as_deref().and_then(sent_at))
                        {
                            ack_us.record((now - t).as_micros() as u64)?;
                        }
                    }
                    // Chat only: presence signals from the peer are not part of the load.
                    PacketType::CommonData if env.typeu == kinds::TEXT => {
                        let fp = env.fp.clone().unwrap_or_default();
                        if in_window {
                            delivered += 1;
                            if let Some(t) = sent_at(&fp) {
                                e2e_us.record((now - t).as_micros() as u64)?;
                            }
                        }
                        let _ = tx.send(Envelope::ack(&me, SERVER_ID, fp)).await;
                    }
                    _ => {}
                }
            }
            writer.abort();
            anyhow::Ok((delivered, ack_us, e2e_us))
        });
    }
    let rss_before = server.rss_bytes()?;
    tokio::time::sleep(warmup + Duration::from_secs(seconds)).await;
    let rss_after = server.rss_bytes()?;
    stop.store(true, Ordering::Relaxed);

    let mut delivered = 0;
    let mut ack = Histogram::<u64>::new(3)?;
    let mut e2e = Histogram::<u64>::new(3)?;
    while let Some(res) = set.join_next().await {
        let (d, a, e) = res??;
        delivered += d;
        ack.add(a)?;
        e2e.add(e)?;
    }
    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "clients={n} transport={transport:?} window={window} seconds={seconds} sent_total={}",
        sent.load(Ordering::Relaxed)
    );
    println!(
        "delivered_per_sec={:.0} ack_p50_ms={:.2} ack_p99_ms={:.2} e2e_p50_ms={:.2} e2e_p99_ms={:.2} server_rss_mb={:.1}->{:.1}",
        delivered as f64 / seconds as f64,
        ms(&ack, 0.5),
        ms(&ack, 0.99),
        ms(&e2e, 0.5),
        ms(&e2e, 0.99),
        rss_before as f64 / 1048576.0,
        rss_after as f64 / 1048576.0
    );
    Ok(())
}

async fn idle(
    server: &TestServer,
    accounts: &[accounts::Account],
    transport: Transport,
) -> Result<()> {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let base = server.rss_bytes()?;
    let started = Instant::now();
    let mut conns = Vec::with_capacity(accounts.len());
    let mut set = JoinSet::new();
    let gate = Arc::new(Semaphore::new(64));
    for acc in accounts {
        let (uid, token, gate) = (acc.user_id.clone(), acc.token.clone(), gate.clone());
        let (http, tcp) = (server.http_addr(), server.tcp_addr());
        set.spawn(async move {
            let _p = gate.acquire_owned().await?;
            let conn = connect(transport, http, tcp, &uid, &token).await?;
            anyhow::Ok((uid, conn))
        });
    }
    while let Some(res) = set.join_next().await {
        conns.push(res?.context("connecting")?);
    }
    let connect_time = started.elapsed();
    // Let allocations settle, heartbeat once, then measure.
    for (uid, c) in &conns {
        let _ = c.tx.send(Envelope::keepalive(uid)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let loaded = server.rss_bytes()?;
    let n = conns.len();
    println!(
        "idle_conns={n} transport={transport:?} connect_secs={:.1} server_rss_base_mb={:.1} server_rss_loaded_mb={:.1} rss_per_conn_kb={:.1}",
        connect_time.as_secs_f64(),
        base as f64 / 1048576.0,
        loaded as f64 / 1048576.0,
        (loaded.saturating_sub(base)) as f64 / n as f64 / 1024.0
    );
    Ok(())
}
