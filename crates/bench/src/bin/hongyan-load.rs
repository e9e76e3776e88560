//! `hongyan-load`: bounded loopback load against real `hongyan-server` nodes it starts itself.
//!
//!   hongyan-load chat --clients 100 --seconds 10     1:1 messages/s and latency
//!   hongyan-load idle --conns 10000                  server RSS per idle logged-in connection
//!   hongyan-load chat --nodes 3 --backend postgres   the same on 3 nodes + PostgreSQL + NATS
//!   hongyan-load compare --nodes 1,2,3               baseline (1 node, SQLite) and 1..3 nodes
//!                                                    on PostgreSQL + NATS, one table of ratios
//!
//! Every run is bounded in connections, messages and time, and targets 127.0.0.1 only.

use std::{
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use hdrhistogram::Histogram;
use hongyan_bench::{
    cluster::{self, Account, Backend, Cluster},
    conn::{connect, Transport},
    pg_activity::{Activity, ByApplication, Sampler},
    procs,
    scrape::{self, Scrape},
    server::server_bin,
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
        #[command(flatten)]
        load: ChatLoad,
        #[command(flatten)]
        deploy: Deploy,
    },
    /// Opens logged-in connections that only heartbeat, and reports server RSS per connection.
    Idle {
        /// Connections per node.
        #[arg(long, default_value_t = 10_000)]
        conns: usize,
        #[arg(long, value_enum, default_value_t = Transport::Ws)]
        transport: Transport,
        #[command(flatten)]
        deploy: Deploy,
    },
    /// In one invocation: the baseline (1 node, SQLite) and each node count on PostgreSQL +
    /// NATS under the same chat load (and, with --idle-conns, the same idle connections);
    /// prints one table with ratios against the baseline.
    Compare {
        #[command(flatten)]
        load: ChatLoad,
        /// Node counts to run on PostgreSQL + NATS.
        #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
        nodes: Vec<usize>,
        /// Idle connections per node for the memory comparison (0: skip it).
        #[arg(long, default_value_t = 0)]
        idle_conns: usize,
    },
}

/// The chat load, the same for every deployment it runs against.
#[derive(Args, Clone, Copy)]
struct ChatLoad {
    /// Number of clients (paired: client i talks to client i^1).
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// Measured seconds (after a 2 s warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Unacknowledged messages each client keeps in flight.
    #[arg(long, default_value_t = 8)]
    window: usize,
    /// Upper bound on messages sent in total (per run).
    #[arg(long, default_value_t = 2_000_000)]
    max_messages: u64,
    #[arg(long, value_enum, default_value_t = Transport::Ws)]
    transport: Transport,
}

/// Which deployment to start.
#[derive(Args, Clone, Copy)]
struct Deploy {
    /// Server nodes (more than one needs --backend postgres).
    #[arg(long, default_value_t = 1)]
    nodes: usize,
    #[arg(long, value_enum, default_value_t = Backend::Sqlite)]
    backend: Backend,
}

const WARMUP: Duration = Duration::from_secs(2);

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let bin = server_bin(cli.server_bin)?;
    match cli.cmd {
        Cmd::Chat { load, deploy } => {
            let report = run_chat(&bin, deploy, load).await?;
            report.print();
        }
        Cmd::Idle {
            conns,
            transport,
            deploy,
        } => {
            let report = run_idle(&bin, deploy, conns, transport).await?;
            report.print();
        }
        Cmd::Compare {
            load,
            nodes,
            idle_conns,
        } => compare(&bin, load, &nodes, idle_conns).await?,
    }
    Ok(())
}

/// Load is many clients on one loopback address at rates no person reaches: the server's
/// rate limits (docs/RELIABILITY.md) would measure themselves, so every run turns them off.
const NO_RATE_LIMITS: [&str; 2] = ["--rate-limits", "false"];

/// Starts the deployment's shared services, seeds `n` accounts (friends in pairs when
/// `pairs`), then starts its nodes with `extra` flags (and [`NO_RATE_LIMITS`]).
async fn deploy(
    bin: &Path,
    deploy: Deploy,
    prefix: &str,
    n: usize,
    pairs: bool,
    extra: &[&str],
) -> Result<(Cluster, Vec<Account>)> {
    let mut cluster = Cluster::prepare(deploy.backend).await?;
    let store = cluster.store().await?;
    let accounts = cluster::seed_accounts(&store, prefix, n).await?;
    if pairs {
        cluster::befriend_pairs(&store, &accounts).await?;
    }
    store.close().await;
    drop(store);
    let flags = [&NO_RATE_LIMITS[..], extra].concat();
    cluster.start_nodes(bin, deploy.nodes, &flags).await?;
    Ok((cluster, accounts))
}

// ---------------------------------------------------------------------------------------------
// chat

/// What one chat run measured.
struct ChatReport {
    label: String,
    load: ChatLoad,
    sent_total: u64,
    delivered: u64,
    ack_us: Histogram<u64>,
    e2e_us: Histogram<u64>,
    /// Clients assigned to each node, and what each node's gauge said at the end.
    conns: Vec<(usize, f64)>,
    /// Per node: RSS at the start and the end of the measured window.
    rss: Vec<(u64, u64)>,
    /// The measured window's CPU time: each node, PostgreSQL, NATS, the load generator.
    cpu: Cpu,
    /// The window's `hongyan_store_seconds{op="store_chat"}` and `hongyan_delivery_seconds`,
    /// all nodes together.
    store_chat: scrape::Histogram,
    delivery: scrape::Histogram,
    /// Messages each node stored in the window (`hongyan_messages_total{kind="c2c"}`).
    stored: Vec<f64>,
    /// What the nodes' PostgreSQL connections were doing (PostgreSQL only), per node.
    pg: Option<ByApplication>,
    window: Duration,
}

#[derive(Default)]
struct Cpu {
    nodes: Vec<Duration>,
    postgres: Option<Duration>,
    nats: Option<Duration>,
    load: Duration,
}

impl Cpu {
    fn total(&self) -> Duration {
        self.nodes.iter().sum::<Duration>()
            + self.postgres.unwrap_or_default()
            + self.nats.unwrap_or_default()
            + self.load
    }
}

/// The processes of a run.
struct Pids {
    nodes: Vec<u32>,
    postgres: Option<u32>,
    nats: Option<u32>,
}

impl Pids {
    fn of(cluster: &Cluster) -> Result<Self> {
        Ok(Self {
            nodes: cluster
                .nodes()
                .iter()
                .map(|n| n.pid().context("node is not running"))
                .collect::<Result<_>>()?,
            postgres: cluster.postgres_pid(),
            nats: cluster.nats_pid(),
        })
    }
}

/// Counters read at the start and the end of the measured window.
struct Snapshot {
    at: Instant,
    node_cpu: Vec<Duration>,
    node_rss: Vec<u64>,
    scrapes: Vec<Scrape>,
    pg_cpu: Option<Duration>,
    nats_cpu: Option<Duration>,
    load_cpu: Duration,
}

impl Snapshot {
    /// CPU times first (cheap, so they bound the window tightly), then RSS and `/metrics`.
    async fn take(cluster: &Cluster, pids: &Pids, http: &reqwest::Client) -> Result<Self> {
        let at = Instant::now();
        let node_cpu = pids
            .nodes
            .iter()
            .map(|p| procs::cpu_time(*p))
            .collect::<Result<Vec<_>, _>>()?;
        let pg_cpu = pids.postgres.map(procs::tree_cpu_time).transpose()?;
        let nats_cpu = pids.nats.map(procs::cpu_time).transpose()?;
        let load_cpu = procs::cpu_time(std::process::id())?;
        let node_rss = pids
            .nodes
            .iter()
            .map(|p| procs::rss_of(*p))
            .collect::<Result<Vec<_>, _>>()?;
        let mut scrapes = Vec::new();
        for node in cluster.nodes() {
            scrapes.push(Scrape::fetch(http, &node.url()).await?);
        }
        Ok(Self {
            at,
            node_cpu,
            node_rss,
            scrapes,
            pg_cpu,
            nats_cpu,
            load_cpu,
        })
    }

    /// A histogram of the window between `start` and `self`, all nodes merged.
    fn histogram_since(&self, start: &Snapshot, name: &str, labels: &[&str]) -> scrape::Histogram {
        let mut all = scrape::Histogram::default();
        for (end, begin) in self.scrapes.iter().zip(&start.scrapes) {
            all.merge(
                &end.histogram(name, labels)
                    .since(&begin.histogram(name, labels)),
            );
        }
        all
    }
}

async fn run_chat(bin: &Path, deploy_on: Deploy, load: ChatLoad) -> Result<ChatReport> {
    let clients = load.clients.max(2) & !1;
    let (cluster, accounts) = deploy(bin, deploy_on, "chat", clients, true, &[]).await?;
    chat(&cluster, &accounts, load).await
}

async fn chat(cluster: &Cluster, accounts: &[Account], load: ChatLoad) -> Result<ChatReport> {
    let ChatLoad {
        seconds,
        window,
        max_messages,
        transport,
        ..
    } = load;
    let n = accounts.len();
    let nodes = cluster.nodes();
    let epoch = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let budget = Arc::new(AtomicU64::new(max_messages));
    let sent = Arc::new(AtomicU64::new(0));
    let mut conns = Vec::with_capacity(n);
    let mut assigned = vec![0usize; nodes.len()];
    for (i, acc) in accounts.iter().enumerate() {
        let node = &nodes[cluster::chat_node(i, nodes.len())];
        assigned[cluster::chat_node(i, nodes.len())] += 1;
        conns.push(
            connect(
                transport,
                node.http_addr(),
                node.tcp_addr(),
                &acc.user_id,
                &acc.token,
            )
            .await?,
        );
    }
    println!(
        "{}: {n} clients logged in over {transport:?} ({assigned:?} per node); warm-up {WARMUP:?}, measuring {seconds} s",
        cluster.label()
    );

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
            let deadline = WARMUP + Duration::from_secs(seconds) + Duration::from_secs(3);
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
                let in_window = now >= WARMUP && now < WARMUP + Duration::from_secs(seconds);
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
    let http = reqwest::Client::new();
    let pids = Pids::of(cluster)?;
    tokio::time::sleep_until((epoch + WARMUP).into()).await;
    let start = Snapshot::take(cluster, &pids, &http).await?;
    let sampler = match cluster.postgres_url() {
        Some(url) => Some(Sampler::start(&url).await?),
        None => None,
    };
    tokio::time::sleep_until((epoch + WARMUP + Duration::from_secs(seconds)).into()).await;
    let end = Snapshot::take(cluster, &pids, &http).await?;
    let pg = match sampler {
        Some(s) => Some(s.finish().await?),
        None => None,
    };
    let c2c = "hongyan_messages_total{kind=\"c2c\"}";
    let stored = end
        .scrapes
        .iter()
        .zip(&start.scrapes)
        .map(|(e, s)| e.value(c2c).unwrap_or(0.0) - s.value(c2c).unwrap_or(0.0))
        .collect();
    stop.store(true, Ordering::Relaxed);
    let mut gauges = Vec::new();
    for scrape in &end.scrapes {
        let conns = ["ws", "tcp"]
            .iter()
            .filter_map(|t| scrape.value(&format!("hongyan_connections{{transport=\"{t}\"}}")))
            .sum::<f64>();
        gauges.push(conns);
    }

    let mut delivered = 0;
    let mut ack_us = Histogram::<u64>::new(3)?;
    let mut e2e_us = Histogram::<u64>::new(3)?;
    while let Some(res) = set.join_next().await {
        let (d, a, e) = res??;
        delivered += d;
        ack_us.add(a)?;
        e2e_us.add(e)?;
    }
    let since = |a: Option<Duration>, b: Option<Duration>| Some(a? - b?);
    Ok(ChatReport {
        label: cluster.label(),
        load,
        sent_total: sent.load(Ordering::Relaxed),
        delivered,
        ack_us,
        e2e_us,
        conns: assigned.into_iter().zip(gauges).collect(),
        rss: start
            .node_rss
            .iter()
            .copied()
            .zip(end.node_rss.iter().copied())
            .collect(),
        cpu: Cpu {
            nodes: end
                .node_cpu
                .iter()
                .zip(&start.node_cpu)
                .map(|(e, s)| *e - *s)
                .collect(),
            postgres: since(end.pg_cpu, start.pg_cpu),
            nats: since(end.nats_cpu, start.nats_cpu),
            load: end.load_cpu - start.load_cpu,
        },
        store_chat: end.histogram_since(&start, "hongyan_store_seconds", &["op=\"store_chat\""]),
        delivery: end.histogram_since(&start, "hongyan_delivery_seconds", &[]),
        stored,
        pg,
        window: end.at - start.at,
    })
}

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1048576.0
}

impl ChatReport {
    fn per_sec(&self) -> f64 {
        self.delivered as f64 / self.load.seconds as f64
    }

    /// CPU milliseconds per 1,000 messages stored in the same window (the CPU times and the
    /// `/metrics` counters are read together at both ends).
    fn cpu_per_k(&self, cpu: Duration) -> f64 {
        let stored: f64 = self.stored.iter().sum();
        cpu.as_secs_f64() * 1000.0 / (stored.max(1.0) / 1000.0)
    }

    fn print(&self) {
        let l = &self.load;
        println!(
            "setup=\"{}\" clients={} transport={:?} window={} seconds={} sent_total={}",
            self.label, l.clients, l.transport, l.window, l.seconds, self.sent_total
        );
        println!(
            "delivered_per_sec={:.0} ack_p50_ms={:.2} ack_p99_ms={:.2} e2e_p50_ms={:.2} e2e_p99_ms={:.2}",
            self.per_sec(),
            ms(&self.ack_us, 0.5),
            ms(&self.ack_us, 0.99),
            ms(&self.e2e_us, 0.5),
            ms(&self.e2e_us, 0.99),
        );
        for (k, ((assigned, gauge), (rss0, rss1))) in self.conns.iter().zip(&self.rss).enumerate() {
            println!(
                "node{k}: conns={assigned} (gauge {gauge}) stored={:.0} rss_mb={:.1}->{:.1} cpu_s={:.2}",
                self.stored[k],
                mb(*rss0),
                mb(*rss1),
                self.cpu.nodes[k].as_secs_f64()
            );
        }
        let opt = |d: Option<Duration>| d.map_or("-".into(), |d| format!("{:.2}", d.as_secs_f64()));
        println!(
            "cpu_s over {:.1} s: nodes={:.2} postgres={} nats={} load={:.2} total={:.2} ({:.2} cores)",
            self.window.as_secs_f64(),
            self.cpu.nodes.iter().sum::<Duration>().as_secs_f64(),
            opt(self.cpu.postgres),
            opt(self.cpu.nats),
            self.cpu.load.as_secs_f64(),
            self.cpu.total().as_secs_f64(),
            self.cpu.total().as_secs_f64() / self.window.as_secs_f64()
        );
        println!(
            "store_chat: n={:.0} mean_ms={:.3} p50_ms~{:.3} p99_ms~{:.3}; delivery (stored->pushed): n={:.0} mean_ms={:.3} p50_ms~{:.3} p99_ms~{:.3}",
            self.store_chat.count,
            self.store_chat.mean() * 1e3,
            self.store_chat.quantile(0.5) * 1e3,
            self.store_chat.quantile(0.99) * 1e3,
            self.delivery.count,
            self.delivery.mean() * 1e3,
            self.delivery.quantile(0.5) * 1e3,
            self.delivery.quantile(0.99) * 1e3,
        );
        for (node, a) in self.pg.iter().flatten() {
            println!(
                "postgres connections of {node:?} (mean of {} samples): running={:.1} lock_wait={:.1} other_wait={:.1} idle_in_transaction={:.1} idle={:.1}",
                a.samples, a.running, a.lock_wait, a.other_wait, a.idle_in_transaction, a.idle
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// idle

/// What one idle run measured.
struct IdleReport {
    label: String,
    transport: Transport,
    connect: Duration,
    /// Per node: connections, RSS before and after.
    nodes: Vec<(usize, u64, u64)>,
    /// nats-server's RSS before and after (its per-user subscriptions).
    nats: Option<(u64, u64)>,
}

impl IdleReport {
    fn per_conn_kb(&self) -> Vec<f64> {
        self.nodes
            .iter()
            .map(|(n, before, after)| after.saturating_sub(*before) as f64 / *n as f64 / 1024.0)
            .collect()
    }

    fn mean_per_conn_kb(&self) -> f64 {
        let all = self.per_conn_kb();
        all.iter().sum::<f64>() / all.len().max(1) as f64
    }

    fn nats_per_conn_kb(&self) -> Option<f64> {
        let total: usize = self.nodes.iter().map(|n| n.0).sum();
        self.nats
            .map(|(before, after)| after.saturating_sub(before) as f64 / total as f64 / 1024.0)
    }

    fn print(&self) {
        for (k, ((n, before, after), kb)) in self.nodes.iter().zip(self.per_conn_kb()).enumerate() {
            println!(
                "setup=\"{}\" node{k}: idle_conns={n} transport={:?} connect_secs={:.1} server_rss_base_mb={:.1} server_rss_loaded_mb={:.1} rss_per_conn_kb={kb:.1}",
                self.label,
                self.transport,
                self.connect.as_secs_f64(),
                mb(*before),
                mb(*after),
            );
        }
        if let (Some((before, after)), Some(kb)) = (self.nats, self.nats_per_conn_kb()) {
            println!(
                "nats-server: rss_mb={:.1}->{:.1} rss_per_conn_kb={kb:.1}",
                mb(before),
                mb(after)
            );
        }
    }
}

async fn run_idle(
    bin: &Path,
    deploy_on: Deploy,
    per_node: usize,
    transport: Transport,
) -> Result<IdleReport> {
    let total = per_node * deploy_on.nodes;
    let (cluster, accounts) = deploy(
        bin,
        deploy_on,
        "idle",
        total,
        false,
        &["--read-timeout-secs", "120"],
    )
    .await?;
    let nodes = cluster.nodes();
    tokio::time::sleep(cluster::SETTLE).await;
    let base: Vec<u64> = nodes
        .iter()
        .map(|n| n.rss_bytes())
        .collect::<Result<_, _>>()?;
    let nats_rss = || cluster.nats_pid().map(procs::rss_of).transpose();
    let nats_base = nats_rss()?;
    let started = Instant::now();
    let mut conns = Vec::with_capacity(total);
    let mut set = JoinSet::new();
    let gate = Arc::new(Semaphore::new(64));
    for (i, acc) in accounts.iter().enumerate() {
        let (uid, token, gate) = (acc.user_id.clone(), acc.token.clone(), gate.clone());
        let node = &nodes[i % nodes.len()];
        let (http, tcp) = (node.http_addr(), node.tcp_addr());
        set.spawn(async move {
            let _p = gate.acquire_owned().await?;
            let conn = connect(transport, http, tcp, &uid, &token).await?;
            anyhow::Ok((uid, conn))
        });
    }
    while let Some(res) = set.join_next().await {
        conns.push(res?.context("connecting")?);
    }
    let connect = started.elapsed();
    // Let allocations settle, heartbeat once, then measure.
    for (uid, c) in &conns {
        let _ = c.tx.send(Envelope::keepalive(uid)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut report = IdleReport {
        label: cluster.label(),
        transport,
        connect,
        nodes: Vec::new(),
        nats: nats_base.zip(nats_rss()?),
    };
    for (k, node) in nodes.iter().enumerate() {
        let held = (0..total).filter(|i| i % nodes.len() == k).count();
        report.nodes.push((held, base[k], node.rss_bytes()?));
    }
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// compare

async fn compare(bin: &Path, load: ChatLoad, counts: &[usize], idle_conns: usize) -> Result<()> {
    let mut setups = vec![Deploy {
        nodes: 1,
        backend: Backend::Sqlite,
    }];
    setups.extend(counts.iter().map(|&nodes| Deploy {
        nodes,
        backend: Backend::Postgres,
    }));

    let mut chats = Vec::new();
    for setup in &setups {
        let report = run_chat(bin, *setup, load).await?;
        report.print();
        println!();
        chats.push(report);
    }
    let mut idles = Vec::new();
    if idle_conns > 0 {
        for setup in &setups {
            let report = run_idle(bin, *setup, idle_conns, load.transport).await?;
            report.print();
            println!();
            idles.push(report);
        }
    }
    print_chat_table(&chats);
    print_pg_table(&chats);
    if !idles.is_empty() {
        print_idle_table(&idles);
    }
    Ok(())
}

fn print_chat_table(runs: &[ChatReport]) {
    let Some(base) = runs.first() else { return };
    let l = &base.load;
    println!(
        "\n1:1 chat, {} clients over {:?}, window {}, {} s measured after {} s warm-up (ratios vs the first row)\n",
        l.clients,
        l.transport,
        l.window,
        l.seconds,
        WARMUP.as_secs()
    );
    println!("| setup | delivered msg/s | vs baseline | ACK p50 / p99 ms | e2e p50 / p99 ms | e2e p99 vs baseline | conns per node | RSS per node MB (end) |");
    println!("|---|---:|---:|---|---|---:|---|---|");
    for r in runs {
        let conns: Vec<String> = r.conns.iter().map(|c| c.0.to_string()).collect();
        let rss: Vec<String> = r.rss.iter().map(|x| format!("{:.0}", mb(x.1))).collect();
        println!(
            "| {} | {:.0} | {:.2}× | {:.1} / {:.1} | {:.1} / {:.1} | {:.2}× | {} | {} |",
            r.label,
            r.per_sec(),
            r.per_sec() / base.per_sec().max(1.0),
            ms(&r.ack_us, 0.5),
            ms(&r.ack_us, 0.99),
            ms(&r.e2e_us, 0.5),
            ms(&r.e2e_us, 0.99),
            ms(&r.e2e_us, 0.99) / ms(&base.e2e_us, 0.99).max(0.001),
            conns.join(" / "),
            rss.join(" / "),
        );
    }
    println!("\nWhere the time goes (measured window): CPU ms per 1,000 messages stored by process, and the servers' own histograms (all nodes)\n");
    println!("| setup | nodes | PostgreSQL | NATS | load generator | total CPU (cores busy) | store_chat mean / p50~ / p99~ ms | stored → pushed mean / p50~ / p99~ ms |");
    println!("|---|---:|---:|---:|---:|---|---|---|");
    for r in runs {
        let per_k =
            |d: Option<Duration>| d.map_or("–".into(), |d| format!("{:.0}", r.cpu_per_k(d)));
        println!(
            "| {} | {:.0} | {} | {} | {:.0} | {:.0} ({:.2}) | {:.2} / {:.2} / {:.2} | {:.2} / {:.2} / {:.2} |",
            r.label,
            r.cpu_per_k(r.cpu.nodes.iter().sum()),
            per_k(r.cpu.postgres),
            per_k(r.cpu.nats),
            r.cpu_per_k(r.cpu.load),
            r.cpu_per_k(r.cpu.total()),
            r.cpu.total().as_secs_f64() / r.window.as_secs_f64(),
            r.store_chat.mean() * 1e3,
            r.store_chat.quantile(0.5) * 1e3,
            r.store_chat.quantile(0.99) * 1e3,
            r.delivery.mean() * 1e3,
            r.delivery.quantile(0.5) * 1e3,
            r.delivery.quantile(0.99) * 1e3,
        );
    }
}

fn print_pg_table(runs: &[ChatReport]) {
    if runs.iter().all(|r| r.pg.is_none()) {
        return;
    }
    println!("\nThe nodes' PostgreSQL connections during the window (pg_stat_activity every 20 ms; mean number of connections in each state)\n");
    println!("| setup | messages stored per node | running SQL | waiting for a row lock | other waits | in a transaction, waiting for the node | idle in the pools |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for r in runs {
        let Some(by_node) = &r.pg else { continue };
        let a = by_node
            .iter()
            .filter(|(app, _)| app.starts_with("node"))
            .fold(Activity::default(), |sum, (_, a)| sum.plus(a));
        let stored: Vec<String> = r.stored.iter().map(|s| format!("{s:.0}")).collect();
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            r.label,
            stored.join(" / "),
            a.running,
            a.lock_wait,
            a.other_wait,
            a.idle_in_transaction,
            a.idle
        );
    }
}

fn print_idle_table(runs: &[IdleReport]) {
    let Some(base) = runs.first() else { return };
    println!("\nIdle logged-in {:?} connections (RSS growth after connect + one heartbeat, ratios vs the first row)\n", base.transport);
    println!("| setup | conns per node | node RSS before → after MB | per connection KB (each node) | vs baseline | nats-server per connection KB |");
    println!("|---|---:|---|---|---:|---:|");
    for r in runs {
        let rss: Vec<String> = r
            .nodes
            .iter()
            .map(|(_, b, a)| format!("{:.0} → {:.0}", mb(*b), mb(*a)))
            .collect();
        let kb: Vec<String> = r.per_conn_kb().iter().map(|k| format!("{k:.1}")).collect();
        println!(
            "| {} | {} | {} | {} | {:.2}× | {} |",
            r.label,
            r.nodes.first().map_or(0, |n| n.0),
            rss.join(" / "),
            kb.join(" / "),
            r.mean_per_conn_kb() / base.mean_per_conn_kb().max(0.001),
            r.nats_per_conn_kb()
                .map_or("–".into(), |k| format!("{k:.1}")),
        );
    }
}
