//! The search benchmark at the SDK level (issue 6): what the app's search box costs on a
//! 1M-message account. The account's real store (`hongyan_sdk::Store`, its SQLite file) is
//! filled with the generated corpus spread over 1:1 chats and groups (not timed); then a real
//! `Client` logs in to a real `hongyan-server`, finds no index beside the store and rebuilds
//! it in the background (timed, with its `IndexProgress` events); then `Client::search`, the
//! call behind the app's `search` command (tantivy, then each hit's message read from SQLite
//! and its snippet cut), is timed for every query set, newest first and by relevance, and
//! within one conversation. Baselines from the same run: `hongyan-search` alone on the same
//! index (no SQLite, no snippets), and SQLite `LIKE '%…%'` on the store's `messages` table.
//! Completeness: every `total` is checked against a brute-force count over the store, and
//! every newest-first page against the brute force's newest messages.
//!
//! `hongyan-search-account-bench` (1M messages) is the recorded run; `--messages 3000` is the
//! smoke test the test suite runs.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use clap::Parser;
use hongyan_bench::corpus::{self, folded_words, query_sets, Corpus, Need, Rng, DEFAULT_SEED};
use hongyan_bench::latency::{fmt_duration, percentile, Tries};
use hongyan_bench::server;
use hongyan_sdk::search::{Order, Query, DIR_NAME};
use hongyan_sdk::{
    kinds, store, Client, ClientConfig, Event, IndexState, Message, MessageStatus, SecretBackend,
    Store,
};
use hongyan_search::{Doc, Opened, SearchIndex};
use tokio::sync::broadcast::error::RecvError;

#[derive(Parser)]
#[command(
    about = "Client::search on a generated 1M-message account, beside hongyan-search \
                   alone and SQLite LIKE, checked against a brute-force count"
)]
struct Args {
    /// How many messages the account's store holds.
    #[arg(long, default_value_t = 1_000_000)]
    messages: usize,
    /// Queries per query set.
    #[arg(long, default_value_t = 200)]
    queries: usize,
    /// Queries per set for the `LIKE` baseline (each one scans the whole table).
    #[arg(long, default_value_t = 20)]
    like_queries: usize,
    /// Hits per page: the app's first page (`SEARCH_PAGE` in ui/src/lib/search.ts).
    #[arg(long, default_value_t = 30)]
    page: usize,
    #[arg(long, default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// Where to put the server's and the client's data (a temp dir inside it, deleted at
    /// the end); default: the system temp dir.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The `hongyan-server` binary (default: the one beside this executable).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Exit 1 unless every total equals the brute-force count and every page is right.
    #[arg(long)]
    require_complete: bool,
}

/// Received messages come from user ids above this one (the server's ids are numbers).
const PEER_BASE: u64 = 200_000;
/// Insert batch while filling the store (one transaction each).
const FILL_BATCH: usize = 10_000;
/// Longest a rebuild may take before the run gives up.
const REBUILD_LIMIT: Duration = Duration::from_secs(600);

/// A stored message as the brute force sees it.
struct Row {
    id: String,
    conversation_id: String,
    sender: String,
    sent_at: i64,
    text: String,
    words: String,
}

impl Row {
    fn satisfies(&self, needs: &[Need], conversation: Option<&str>) -> bool {
        conversation.is_none_or(|c| c == self.conversation_id)
            && needs.iter().all(|n| n.matches(&self.text, &self.words))
    }
}

/// What the brute force found for one query.
struct Truth {
    count: usize,
    /// The newest matches' ids, newest first, at most a page.
    newest: Vec<String>,
}

/// One query to time and check.
struct Case {
    text: String,
    needs: Vec<Need>,
    conversation: Option<String>,
    truth: Truth,
}

impl Case {
    fn query(&self, order: Order, page: usize) -> Query {
        Query {
            conversation_id: self.conversation.clone(),
            order,
            limit: page,
            ..Query::text(self.text.clone())
        }
    }
}

struct Set {
    name: String,
    cases: Vec<Case>,
}

/// Latencies of one query set under one engine and order, and how its answers compared.
#[derive(Default)]
struct Measured {
    best: Vec<Duration>,
    first: Vec<Duration>,
    totals: usize,
    exact_totals: usize,
    exact_pages: usize,
    snippets_unmarked: usize,
}

impl Measured {
    fn record(&mut self, tries: Tries) {
        self.best.push(tries.best);
        self.first.push(tries.first);
    }

    fn check(&mut self, case: &Case, total: usize, page_ok: bool) {
        self.totals += case.truth.count;
        self.exact_totals += usize::from(total == case.truth.count);
        self.exact_pages += usize::from(page_ok);
    }

    fn complete(&self) -> bool {
        self.exact_totals == self.best.len() && self.exact_pages == self.best.len()
    }

    fn p(&self, q: f64) -> Duration {
        sorted_percentile(&self.best, q)
    }

    fn p_first(&self, q: f64) -> Duration {
        sorted_percentile(&self.first, q)
    }
}

fn sorted_percentile(times: &[Duration], q: f64) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    percentile(&sorted, q)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    ensure!(args.messages > 0 && args.queries > 0, "nothing to measure");
    let base = match &args.dir {
        Some(d) => tempfile::tempdir_in(d)?,
        None => tempfile::tempdir()?,
    };
    println!(
        "account: {} messages, seed {:#x}, {} queries per set, first page of {} hits",
        args.messages, args.seed, args.queries, args.page
    );
    let bin = server::server_bin(args.server_bin.clone())?;
    let mut srv = server::start(&bin, &base.path().join("server"), &[]).await?;
    let result = run(&args, base.path(), &srv.url()).await;
    srv.terminate().await;
    result
}

async fn run(args: &Args, base: &Path, server_url: &str) -> Result<()> {
    let mut config = ClientConfig::new(server_url, base.join("client"));
    config.secrets = SecretBackend::File;
    let client = Client::new(config)?;
    let (username, password) = ("bench-account", "bench-account-secret-pw");
    let me = client.register(username, password, None).await?.user_id;
    let account_dir = client.account_dir(&me);
    let store_path = account_dir.join(store::FILE_NAME);
    let index_dir = account_dir.join(DIR_NAME);

    let corpus: Vec<corpus::Message> = Corpus::new(args.seed).take(args.messages).collect();
    let rows = fill_store(&store_path, &corpus, &me, args.seed)?;
    let t = Instant::now();
    let sets = cases(&corpus, &rows, args)?;
    drop(corpus);
    println!(
        "brute force over the store: {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let rebuilt = rebuild_at_login(&client, (username, password), &sets, &rows, args).await?;
    let index_size = dir_size(&index_dir)?;
    let raw_text: u64 = rows.iter().map(|r| r.text.len() as u64).sum();
    println!(
        "index on disk {:.1} MB = {:.2}× raw text",
        mb(index_size),
        index_size as f64 / raw_text as f64
    );
    let by_id: HashMap<&str, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let sdk = measure_sdk(&client, &sets, &rows, &by_id, args.page).await?;
    client.shutdown().await;
    let lib = measure_library(&index_dir, &sets, &rows, &by_id, args.page)?;
    rebuild_baseline(&base.join("direct-index"), &rows, rebuilt)?;
    let store = Store::open(&store_path)?;
    let like = measure_like(&store, &sets, args)?;
    let complete = report(&sets, &sdk, &lib, &like, args);
    page_costs(&store, &sets)?;
    println!(
        "\ncomplete (every Client::search and hongyan-search total = brute force, every page right): {}",
        if complete { "yes" } else { "NO" }
    );
    if args.require_complete {
        ensure!(
            complete,
            "search did not find exactly what the brute force found"
        );
    }
    Ok(())
}

/// Writes the account's history into its store before the app opens it (not timed) and
/// reads it back.
fn fill_store(
    store_path: &Path,
    corpus: &[corpus::Message],
    me: &str,
    seed: u64,
) -> Result<Vec<Row>> {
    let t = Instant::now();
    let store = Store::open(store_path)?;
    let mut rng = Rng::new(seed ^ 0x0041_4343_4f55_4e54);
    for (b, chunk) in corpus.chunks(FILL_BATCH).enumerate() {
        let batch: Vec<Message> = chunk
            .iter()
            .enumerate()
            .map(|(i, m)| account_message(m, me, &mut rng, (b * FILL_BATCH + i + 1) as i64))
            .collect::<Result<_>>()?;
        store.insert_messages(&batch)?;
    }
    let rows = read_rows(&store)?;
    let conversations = store.conversations()?;
    let groups = conversations
        .iter()
        .filter(|c| c.id.starts_with('g'))
        .count();
    println!(
        "store filled in {:.1} s (Store::insert_messages, {FILL_BATCH} per transaction; not timed): \
         {} text messages in {} conversations ({} groups), {:.1} MB of text, store {:.1} MB",
        t.elapsed().as_secs_f64(),
        rows.len(),
        conversations.len(),
        groups,
        mb(rows.iter().map(|r| r.text.len() as u64).sum()),
        mb(db_size(store_path))
    );
    Ok(rows)
}

/// The app starts: `login` opens the store, finds no index and rebuilds it in the
/// background. Times it to the last `IndexProgress`, using the app meanwhile (a search and
/// a history page per progress event). How long the rebuild took.
async fn rebuild_at_login(
    client: &Client,
    (username, password): (&str, &str),
    sets: &[Set],
    rows: &[Row],
    args: &Args,
) -> Result<Duration> {
    let probe = sets
        .iter()
        .find(|s| s.name == "2-char CJK")
        .and_then(|s| s.cases.first())
        .context("a 2-char CJK query")?;
    let busiest = busiest_conversation(rows);
    let mut events = client.events();
    let t0 = Instant::now();
    client.login(username, password).await?;
    let logged_in = t0.elapsed();
    let mut progress: Vec<(Duration, u64, u64)> = Vec::new();
    let (mut search_during, mut history_during) = (Vec::new(), Vec::new());
    loop {
        let event = tokio::time::timeout(REBUILD_LIMIT, events.recv())
            .await
            .context("the rebuild did not finish in time")?;
        let (done, total) = match event {
            Ok(Event::IndexProgress { done, total }) => (done, total),
            Ok(_) | Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => bail!("the client's events ended"),
        };
        progress.push((t0.elapsed(), done, total));
        if done == total {
            break;
        }
        let t = Instant::now();
        client.search(probe.query(Order::Newest, args.page)).await?;
        search_during.push(t.elapsed());
        let t = Instant::now();
        client.history(&busiest, None, 50).await?;
        history_during.push(t.elapsed());
    }
    let rebuilt = t0.elapsed();
    let status = client.index_status();
    ensure!(
        status.state == IndexState::Ready && status.done == rows.len() as u64,
        "after the rebuild: {status:?}, {} messages stored",
        rows.len()
    );
    println!(
        "\n## Rebuild from the store (Client::login with no index; the SDK's background indexer)"
    );
    println!(
        "| how | messages | login returned | index ready (last IndexProgress) | msg/s | IndexProgress events |"
    );
    println!("|---|---|---|---|---|---|");
    println!(
        "| SDK: Client::login, background indexer from SQLite | {} | {:.2} s | {:.1} s | {:.0}/s | {} |",
        rows.len(),
        logged_in.as_secs_f64(),
        rebuilt.as_secs_f64(),
        rows.len() as f64 / rebuilt.as_secs_f64(),
        progress.len(),
    );
    let shown: Vec<String> = progress
        .iter()
        .enumerate()
        .filter(|(i, _)| *i < 3 || i % 10 == 0 || *i + 2 >= progress.len())
        .map(|(_, (at, done, total))| format!("{:.1} s: {done}/{total}", at.as_secs_f64()))
        .collect();
    println!("progress: {}", shown.join(", "));
    println!(
        "while rebuilding ({} samples): Client::search `{}` p50 {} max {}; Client::history 50 of the busiest conversation p50 {} max {}",
        search_during.len(),
        probe.text,
        fmt_duration(sorted_percentile(&search_during, 0.5)),
        fmt_duration(sorted_percentile(&search_during, 1.0)),
        fmt_duration(sorted_percentile(&history_during, 0.5)),
        fmt_duration(sorted_percentile(&history_during, 1.0)),
    );
    Ok(rebuilt)
}

const ORDERS: [Order; 2] = [Order::Newest, Order::Relevance];

/// `Client::search` as the app calls it, every set in both orders.
async fn measure_sdk(
    client: &Client,
    sets: &[Set],
    rows: &[Row],
    by_id: &HashMap<&str, usize>,
    page: usize,
) -> Result<Vec<Vec<Measured>>> {
    let mut sdk = Vec::new();
    for set in sets {
        let mut per_order = Vec::new();
        for order in ORDERS {
            let mut m = Measured::default();
            for case in &set.cases {
                let q = case.query(order, page);
                let mut tries = Tries::default();
                let answer = loop {
                    let t = Instant::now();
                    let answer = client.search(q.clone()).await?;
                    if !tries.record(t.elapsed()) {
                        break answer;
                    }
                };
                m.record(tries);
                let ids: Vec<&str> = answer.hits.iter().map(|h| h.message.id.as_str()).collect();
                let right = page_ok(case, order, &ids, rows, by_id, page);
                m.check(case, answer.total, right);
                m.snippets_unmarked += answer
                    .hits
                    .iter()
                    .filter(|h| !h.snippet.iter().any(|p| p.hit))
                    .count();
            }
            per_order.push(m);
        }
        sdk.push(per_order);
    }
    Ok(sdk)
}

/// Baseline: `hongyan-search` alone on the same index (the client has released it): no
/// SQLite, no snippets.
fn measure_library(
    index_dir: &Path,
    sets: &[Set],
    rows: &[Row],
    by_id: &HashMap<&str, usize>,
    page: usize,
) -> Result<Vec<Vec<Measured>>> {
    let (index, opened) = SearchIndex::open(index_dir)?;
    ensure!(
        matches!(opened, Opened::Ready),
        "the index left by the client: {opened:?}"
    );
    let mut lib = Vec::new();
    for set in sets {
        let mut per_order = Vec::new();
        for order in ORDERS {
            let mut m = Measured::default();
            for case in &set.cases {
                let q = case.query(order, page);
                let mut tries = Tries::default();
                let results = loop {
                    let t = Instant::now();
                    let results = index.search(&q)?;
                    if !tries.record(t.elapsed()) {
                        break results;
                    }
                };
                m.record(tries);
                let ids: Vec<&str> = results.hits.iter().map(|h| h.id.as_str()).collect();
                let right = page_ok(case, order, &ids, rows, by_id, page);
                m.check(case, results.total, right);
            }
            per_order.push(m);
        }
        lib.push(per_order);
    }
    Ok(lib)
}

/// Baseline for the rebuild: the same messages fed to `hongyan-search` from memory, the
/// library benchmark's way (batches of 10k, a commit per 100k, one merge at the end).
fn rebuild_baseline(dir: &Path, rows: &[Row], sdk_rebuild: Duration) -> Result<()> {
    let (index, _) = SearchIndex::open(dir)?;
    let t = Instant::now();
    for (i, chunk) in rows.chunks(10_000).enumerate() {
        let docs: Vec<Doc> = chunk
            .iter()
            .map(|r| Doc {
                id: r.id.clone(),
                conversation_id: r.conversation_id.clone(),
                sender: r.sender.clone(),
                sent_at: r.sent_at,
                text: r.text.clone(),
            })
            .collect();
        index.add(&docs)?;
        if (i + 1) % 10 == 0 {
            index.commit()?;
        }
    }
    index.commit()?;
    index.optimize()?;
    let took = t.elapsed();
    ensure!(
        index.doc_count()? == rows.len() as u64,
        "direct index count"
    );
    drop(index);
    std::fs::remove_dir_all(dir)?;
    println!("\n## Rebuild baseline, same messages, same run");
    println!("| how | messages | build + optimize | msg/s |");
    println!("|---|---|---|---|");
    println!(
        "| hongyan-search fed directly from memory (10k batches, commit per 100k, optimize) | {} | {:.1} s | {:.0}/s |",
        rows.len(),
        took.as_secs_f64(),
        rows.len() as f64 / took.as_secs_f64(),
    );
    println!(
        "SDK rebuild / direct: {:.1}× the time",
        sdk_rebuild.as_secs_f64() / took.as_secs_f64()
    );
    Ok(())
}

/// Baseline: SQLite `LIKE` on the store's `messages` table (what an app without an index
/// would do): the same count and newest page, the first `like_queries` of each set.
fn measure_like(store: &Store, sets: &[Set], args: &Args) -> Result<Vec<Measured>> {
    let mut like = Vec::new();
    for set in sets {
        let mut m = Measured::default();
        for case in set.cases.iter().take(args.like_queries) {
            let mut tries = Tries::default();
            let (total, ids) = loop {
                let t = Instant::now();
                let answer = store.with_connection(|c| like_page(c, case, args.page))?;
                if !tries.record(t.elapsed()) {
                    break answer;
                }
            };
            m.record(tries);
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            m.check(case, total, ids == case.truth.newest);
        }
        like.push(m);
    }
    Ok(like)
}

/// Prints the query tables; whether every SDK and library answer was complete.
fn report(
    sets: &[Set],
    sdk: &[Vec<Measured>],
    lib: &[Vec<Measured>],
    like: &[Measured],
    args: &Args,
) -> bool {
    println!(
        "\n## Client::search, first page of {} (p50 / p99 of the best of up to 3 tries under 20 ms; `first` = p99 of the first try)",
        args.page
    );
    println!("| query set | order | Client::search p50 | p99 | p99 first try | hongyan-search alone p50 | p99 | SDK − library p50 | mean total | totals = brute force | pages right | snippets without a hit |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut complete = true;
    for (i, set) in sets.iter().enumerate() {
        for (o, order) in ORDERS.iter().enumerate() {
            let (s, l) = (&sdk[i][o], &lib[i][o]);
            complete &= s.complete() && l.complete();
            let n = s.best.len();
            println!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {:.0} | {}/{n} | {}/{n} | {} |",
                set.name,
                if *order == Order::Newest {
                    "newest"
                } else {
                    "relevance"
                },
                fmt_duration(s.p(0.5)),
                fmt_duration(s.p(0.99)),
                fmt_duration(s.p_first(0.99)),
                fmt_duration(l.p(0.5)),
                fmt_duration(l.p(0.99)),
                fmt_duration(s.p(0.5).saturating_sub(l.p(0.5))),
                s.totals as f64 / n.max(1) as f64,
                s.exact_totals,
                s.exact_pages,
                s.snippets_unmarked,
            );
        }
    }
    println!(
        "\n## Baseline: SQLite `LIKE '%…%'` on the store's `messages` (count + newest {}; first {} queries of each set)",
        args.page, args.like_queries
    );
    println!("| query set | LIKE p50 | LIKE p99 | Client::search p50 (same queries, newest) | LIKE / Client::search | totals = brute force |");
    println!("|---|---|---|---|---|---|");
    for (i, set) in sets.iter().enumerate() {
        let l = &like[i];
        let n = l.best.len();
        let sdk_p50 = sorted_percentile(&sdk[i][0].best[..n], 0.5);
        println!(
            "| {} | {} | {} | {} | {:.0}× | {}/{n} |",
            set.name,
            fmt_duration(l.p(0.5)),
            fmt_duration(l.p(0.99)),
            fmt_duration(sdk_p50),
            l.p(0.5).as_secs_f64() / sdk_p50.as_secs_f64().max(1e-9),
            l.exact_totals,
        );
    }
    complete
}

/// Where `Client::search`'s time beyond the library goes, per newest-first page: loading
/// each hit's message (`Store::message`, as the SDK does) and cutting its snippet.
fn page_costs(store: &Store, sets: &[Set]) -> Result<()> {
    let (mut loads, mut snippets) = (Vec::new(), Vec::new());
    for case in sets.iter().flat_map(|s| &s.cases) {
        let t = Instant::now();
        let mut texts = Vec::with_capacity(case.truth.newest.len());
        for id in &case.truth.newest {
            texts.push(store.message(id)?.context("a hit's message")?.content);
        }
        loads.push(t.elapsed());
        let t = Instant::now();
        for text in &texts {
            std::hint::black_box(hongyan_search::snippet(text, &case.text));
        }
        snippets.push(t.elapsed());
    }
    println!(
        "\nper newest-first page (all query sets): loading the hits' messages one by one (Store::message) p50 {} p99 {}; their snippets p50 {} p99 {}",
        fmt_duration(sorted_percentile(&loads, 0.5)),
        fmt_duration(sorted_percentile(&loads, 0.99)),
        fmt_duration(sorted_percentile(&snippets, 0.5)),
        fmt_duration(sorted_percentile(&snippets, 0.99)),
    );
    Ok(())
}

/// Spreads a corpus message over this account's conversations: `conv-k` is a group `g<k>`
/// for one k in four, else a 1:1 chat with user `PEER_BASE + k`. In a 1:1 chat half the
/// messages are the account's own, in a group one in five (the others are from the corpus's
/// sender, a member).
fn account_message(m: &corpus::Message, me: &str, rng: &mut Rng, seq: i64) -> Result<Message> {
    let number = |s: &str, prefix: &str| -> Result<u64> {
        s.strip_prefix(prefix)
            .and_then(|n| n.parse().ok())
            .with_context(|| format!("corpus id {s:?} is not {prefix}<n>"))
    };
    let k = number(&m.conversation_id, "conv-")?;
    let group = k % 4 == 0;
    let (conversation_id, sender) = if group {
        let member = PEER_BASE + number(&m.sender, "user-")?;
        (format!("g{k}"), member.to_string())
    } else {
        ((PEER_BASE + k).to_string(), (PEER_BASE + k).to_string())
    };
    let outgoing = rng.unit() < if group { 0.2 } else { 0.5 };
    let (from, to) = match (outgoing, group) {
        (true, _) | (false, true) => (
            if outgoing { me.to_owned() } else { sender },
            conversation_id.clone(),
        ),
        (false, false) => (sender, me.to_owned()),
    };
    Ok(Message {
        id: m.id.clone(),
        conversation_id,
        from,
        to,
        typeu: kinds::TEXT,
        content: m.text.clone(),
        sent_at: m.sent_at,
        seq: Some(seq),
        status: if outgoing {
            MessageStatus::Read
        } else {
            MessageStatus::Received
        },
        outgoing,
    })
}

/// Every stored text message, oldest first (by `(sent_at, id)`, the newest-first order's
/// reverse), read back from the store itself.
fn read_rows(store: &Store) -> Result<Vec<Row>> {
    store.with_connection(|c| {
        let mut stmt = c.prepare(
            "SELECT id, conversation_id, sender, sent_at, content FROM messages \
             WHERE typeu = ?1 ORDER BY sent_at, id",
        )?;
        let rows = stmt
            .query_map([kinds::TEXT], |r| {
                let text: String = r.get(4)?;
                Ok(Row {
                    id: r.get(0)?,
                    conversation_id: r.get(1)?,
                    sender: r.get(2)?,
                    sent_at: r.get(3)?,
                    words: folded_words(&text),
                    text,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    })
}

/// The brute force over the store's rows, independent of the tokenizer's index and of
/// tantivy: a CJK substring by scanning all the text for it (`memmem` over the rows joined by
/// newlines), a word by an exact table of each row's folded words (a prefix: every word of
/// that table starting with it); the needs of a query intersected.
struct Scan<'a> {
    rows: &'a [Row],
    text: String,
    /// Where each row starts in `text`.
    starts: Vec<usize>,
    /// Folded word → the rows containing it, ascending.
    words: HashMap<&'a str, Vec<u32>>,
}

impl<'a> Scan<'a> {
    fn new(rows: &'a [Row]) -> Self {
        let mut text = String::new();
        let mut starts = Vec::with_capacity(rows.len());
        let mut words: HashMap<&str, Vec<u32>> = HashMap::new();
        for (i, r) in rows.iter().enumerate() {
            starts.push(text.len());
            text.push_str(&r.text);
            text.push('\n');
            for w in r.words.split(' ').filter(|w| !w.is_empty()) {
                let list = words.entry(w).or_default();
                if list.last() != Some(&(i as u32)) {
                    list.push(i as u32);
                }
            }
        }
        Self {
            rows,
            text,
            starts,
            words,
        }
    }

    /// The rows satisfying `need`, ascending.
    fn rows_with(&self, need: &Need) -> Vec<u32> {
        match need {
            Need::Substring(s) => {
                let mut out: Vec<u32> = Vec::new();
                for at in memchr::memmem::find_iter(self.text.as_bytes(), s.as_bytes()) {
                    let row = (self.starts.partition_point(|&start| start <= at) - 1) as u32;
                    if out.last() != Some(&row) {
                        out.push(row);
                    }
                }
                out
            }
            Need::Word(w) => self.words.get(w.as_str()).cloned().unwrap_or_default(),
            Need::Prefix(p) => {
                let mut out: Vec<u32> = self
                    .words
                    .iter()
                    .filter(|(w, _)| w.starts_with(p.as_str()))
                    .flat_map(|(_, rows)| rows.iter().copied())
                    .collect();
                out.sort_unstable();
                out.dedup();
                out
            }
        }
    }

    /// Every row satisfying all `needs` (in `conversation` if given).
    fn truth(&self, needs: &[Need], conversation: Option<&str>, page: usize) -> Truth {
        let mut found: Option<Vec<u32>> = None;
        for need in needs {
            let rows = self.rows_with(need);
            found = Some(match found {
                None => rows,
                Some(before) => {
                    let keep: HashSet<u32> = rows.into_iter().collect();
                    before.into_iter().filter(|r| keep.contains(r)).collect()
                }
            });
        }
        let matches: Vec<&Row> = found
            .unwrap_or_default()
            .into_iter()
            .map(|i| &self.rows[i as usize])
            .filter(|r| conversation.is_none_or(|c| c == r.conversation_id))
            .collect();
        Truth {
            count: matches.len(),
            newest: matches
                .iter()
                .rev()
                .take(page)
                .map(|r| r.id.clone())
                .collect(),
        }
    }
}

/// The same answer row by row (every need tested on every row): slow, so only used to
/// check [`Scan`] on small runs.
fn row_by_row(rows: &[Row], needs: &[Need], conversation: Option<&str>, page: usize) -> Truth {
    let mut count = 0;
    let mut newest = VecDeque::with_capacity(page + 1);
    for r in rows.iter().filter(|r| r.satisfies(needs, conversation)) {
        count += 1;
        newest.push_back(r.id.clone());
        if newest.len() > page {
            newest.pop_front();
        }
    }
    Truth {
        count,
        newest: newest.into_iter().rev().collect(),
    }
}

/// Up to this many rows, every [`Scan`] answer is checked against [`row_by_row`].
const CHECK_SCAN_UP_TO: usize = 50_000;

/// The brute force's answer for one query.
fn brute_force(
    scan: &Scan<'_>,
    needs: &[Need],
    conversation: Option<&str>,
    page: usize,
) -> Result<Truth> {
    let truth = scan.truth(needs, conversation, page);
    if scan.rows.len() <= CHECK_SCAN_UP_TO {
        let slow = row_by_row(scan.rows, needs, conversation, page);
        ensure!(
            slow.count == truth.count && slow.newest == truth.newest,
            "the scan and the row-by-row brute force disagree on {needs:?}"
        );
    }
    Ok(truth)
}

/// The library benchmark's query sets (crates/bench/src/corpus.rs) plus "2-char CJK in one
/// conversation" (the conversation of one of the query's newest matches, as when a user
/// searches a chat they are in), each with its brute-force answer.
fn cases(corpus: &[corpus::Message], rows: &[Row], args: &Args) -> Result<Vec<Set>> {
    let scan = Scan::new(rows);
    let mut sets = Vec::new();
    for set in query_sets(corpus, args.queries, args.seed) {
        let mut cases = Vec::new();
        for (text, needs) in set.queries {
            cases.push(Case {
                truth: brute_force(&scan, &needs, None, args.page)?,
                text,
                needs,
                conversation: None,
            });
        }
        sets.push(Set {
            name: set.name.to_owned(),
            cases,
        });
    }
    let two_char = sets
        .iter()
        .find(|s| s.name == "2-char CJK")
        .context("the 2-char CJK query set")?;
    let by_id: HashMap<&str, &str> = rows
        .iter()
        .map(|r| (r.id.as_str(), r.conversation_id.as_str()))
        .collect();
    let mut rng = Rng::new(args.seed ^ 0x434f_4e56);
    let mut in_one = Vec::new();
    for c in two_char.cases.iter().filter(|c| !c.truth.newest.is_empty()) {
        let pick = &c.truth.newest[rng.below(c.truth.newest.len())];
        let conversation = by_id[pick.as_str()].to_owned();
        in_one.push(Case {
            truth: brute_force(&scan, &c.needs, Some(&conversation), args.page)?,
            text: c.text.clone(),
            needs: c.needs.clone(),
            conversation: Some(conversation),
        });
    }
    sets.push(Set {
        name: "2-char CJK in one conversation".into(),
        cases: in_one,
    });
    Ok(sets)
}

/// Whether a first page is right: newest first, exactly the brute force's newest; by
/// relevance, as many as the page can hold, all distinct, each a true match.
fn page_ok(
    case: &Case,
    order: Order,
    ids: &[&str],
    rows: &[Row],
    by_id: &HashMap<&str, usize>,
    page: usize,
) -> bool {
    match order {
        Order::Newest => ids.iter().eq(case.truth.newest.iter()),
        Order::Relevance => {
            let distinct: HashSet<&str> = ids.iter().copied().collect();
            distinct.len() == ids.len()
                && ids.len() == case.truth.count.min(page)
                && ids.iter().all(|id| {
                    by_id.get(id).is_some_and(|&i| {
                        rows[i].satisfies(&case.needs, case.conversation.as_deref())
                    })
                })
        }
    }
}

/// The conversation with the most messages (for history pages during the rebuild).
fn busiest_conversation(rows: &[Row]) -> String {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for r in rows {
        *counts.entry(r.conversation_id.as_str()).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(id, n)| (*n, *id))
        .map(|(id, _)| id.to_owned())
        .unwrap_or_default()
}

/// The `LIKE` baseline's answer: the count and the newest page's ids. Each term of the
/// query is a `LIKE '%term%'` (case-insensitive for ASCII, a substring: `test` also finds
/// `latest`); the page reads whole rows, as the app would show them.
fn like_page(
    c: &mut rusqlite::Connection,
    case: &Case,
    page: usize,
) -> Result<(usize, Vec<String>)> {
    let mut sql = String::from(
        "SELECT id, conversation_id, sender, recipient, typeu, content, sent_at, seq, status, \
         fail_code, fail_reason, outgoing, COUNT(*) OVER () FROM messages WHERE typeu = ?",
    );
    let mut params: Vec<rusqlite::types::Value> = vec![kinds::TEXT.into()];
    for need in &case.needs {
        let (Need::Substring(s) | Need::Word(s) | Need::Prefix(s)) = need;
        sql.push_str(" AND content LIKE ? ESCAPE '\\'");
        let escaped = s
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        params.push(format!("%{escaped}%").into());
    }
    if let Some(conversation) = &case.conversation {
        sql.push_str(" AND conversation_id = ?");
        params.push(conversation.clone().into());
    }
    sql.push_str(" ORDER BY sent_at DESC, id DESC LIMIT ?");
    params.push((page as i64).into());
    let mut stmt = c.prepare_cached(&sql)?;
    let mut total = 0;
    let ids = stmt
        .query_map(rusqlite::params_from_iter(params), |r| {
            total = r.get::<_, i64>(12)? as usize;
            r.get::<_, String>(0)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((total, ids))
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}

/// A SQLite file's size with its write-ahead log.
fn db_size(path: &Path) -> u64 {
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    size(path) + size(Path::new(&wal))
}

fn dir_size(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let meta = entry?.metadata()?;
        if meta.is_file() {
            total += meta.len();
        }
    }
    Ok(total)
}
