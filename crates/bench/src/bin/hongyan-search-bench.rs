//! The search benchmark (issue 6), in one run on one generated corpus: the tantivy index of
//! `hongyan-search` beside SQLite FTS5 (trigram tokenizer), both checked against a brute-force
//! scan. `hongyan-search-bench --messages 1000000` is the recorded run; `--messages 20000`
//! is a smoke test.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use clap::Parser;
use hongyan_bench::corpus::{
    folded_words, query_sets, Corpus, Message, Need, QuerySet, DEFAULT_SEED,
};
use hongyan_bench::latency::{fmt_duration, percentile, timed};
use hongyan_search::{Doc, Order, Query, SearchIndex};
use rusqlite::Connection;

#[derive(Parser)]
#[command(
    about = "tantivy (hongyan-search) vs SQLite FTS5 trigram on a generated zh/en chat corpus"
)]
struct Args {
    /// How many messages to generate and index.
    #[arg(long, default_value_t = 1_000_000)]
    messages: usize,
    /// Queries per query set.
    #[arg(long, default_value_t = 200)]
    queries: usize,
    #[arg(long, default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// Where to build the indexes (a temp dir inside it); default: the system temp dir.
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
    /// Fail (exit 1) if a tantivy query set misses or adds a document vs the brute force.
    #[arg(long)]
    require_full_recall: bool,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let base = match &args.dir {
        Some(d) => tempfile::tempdir_in(d)?,
        None => tempfile::tempdir()?,
    };
    println!(
        "corpus: {} messages, seed {:#x}, {} queries per set",
        args.messages, args.seed, args.queries
    );
    let t = Instant::now();
    let corpus: Vec<Message> = Corpus::new(args.seed).take(args.messages).collect();
    let raw_text: u64 = corpus.iter().map(|m| m.text.len() as u64).sum();
    println!(
        "generated in {:.1} s; raw text {:.1} MB ({:.1} bytes/message)",
        t.elapsed().as_secs_f64(),
        mb(raw_text),
        raw_text as f64 / corpus.len() as f64
    );

    let sets = query_sets(&corpus, args.queries, args.seed);
    let t = Instant::now();
    // Each message's words as the tokenizer folds them (`Café` → `cafe`), space-separated: a
    // word query must find exactly the messages with that word, whatever the engine.
    let words: Vec<String> = corpus.iter().map(|m| folded_words(&m.text)).collect();
    let truth: Vec<Vec<Vec<usize>>> = sets
        .iter()
        .map(|s| {
            s.queries
                .iter()
                .map(|(_, needs)| brute_force(&corpus, &words, needs))
                .collect()
        })
        .collect();
    drop(words);
    println!("brute force: {:.1} s", t.elapsed().as_secs_f64());

    // --- tantivy
    let index_dir = base.path().join("tantivy");
    let (index, _) = SearchIndex::open(&index_dir)?;
    let t = Instant::now();
    for (i, chunk) in corpus.chunks(10_000).enumerate() {
        let docs: Vec<Doc> = chunk.iter().map(to_doc).collect();
        index.add(&docs)?;
        // Commit every 100k, as a background rebuild reporting progress would.
        if (i + 1) % 10 == 0 {
            index.commit()?;
        }
    }
    index.commit()?;
    let build = t.elapsed();
    ensure!(index.doc_count()? == corpus.len() as u64, "doc count");
    let size = dir_size(&index_dir)?;
    let segments = count_segments(&index_dir)?;
    println!(
        "\n## tantivy build: {:.1} s, {:.0} msg/s; on disk right after the last commit {:.1} MB = {:.2}× raw text ({segments} segments; background merges may still hold replaced files)",
        build.as_secs_f64(),
        corpus.len() as f64 / build.as_secs_f64(),
        mb(size),
        size as f64 / raw_text as f64
    );
    let mut full_recall = true;
    println!("\n### tantivy queries, {segments} segments (as left by the build)");
    full_recall &= run_tantivy(&index, &corpus, &sets, &truth)?;
    let t = Instant::now();
    index.optimize()?;
    let size = dir_size(&index_dir)?;
    println!(
        "\n## tantivy optimize (merge to one segment): {:.1} s; index {:.1} MB = {:.2}× raw text",
        t.elapsed().as_secs_f64(),
        mb(size),
        size as f64 / raw_text as f64
    );
    println!("\n### tantivy queries, 1 segment");
    full_recall &= run_tantivy(&index, &corpus, &sets, &truth)?;
    drop(index);
    print_space_usage(&index_dir)?;

    // --- SQLite FTS5
    let db_path = base.path().join("fts.db");
    let db = Connection::open(&db_path)?;
    db.execute_batch(
        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
         CREATE TABLE messages(id TEXT PRIMARY KEY, conversation_id TEXT, sender TEXT,
                               sent_at INTEGER, text TEXT);",
    )?;
    {
        let tx = db.unchecked_transaction()?;
        let mut insert = tx.prepare(
            "INSERT INTO messages(rowid, id, conversation_id, sender, sent_at, text)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (i, m) in corpus.iter().enumerate() {
            insert.execute(rusqlite::params![
                i as i64 + 1,
                m.id,
                m.conversation_id,
                m.sender,
                m.sent_at,
                m.text
            ])?;
        }
        drop(insert);
        tx.commit()?;
    }
    let before = db_bytes(&db)?;
    let t = Instant::now();
    db.execute_batch(
        "CREATE VIRTUAL TABLE fts USING fts5(text, content='messages', content_rowid='rowid',
                                             tokenize='trigram remove_diacritics 1');
         INSERT INTO fts(fts) VALUES('rebuild');",
    )
    .context("FTS5 with the trigram tokenizer (bundled SQLite)")?;
    let build = t.elapsed();
    let fts_size = db_bytes(&db)? - before;
    println!(
        "\n## FTS5 trigram (remove_diacritics 1) build: {:.1} s, {:.0} msg/s; index {:.1} MB = {:.2}× raw text (external content: text stays in `messages`)",
        build.as_secs_f64(),
        corpus.len() as f64 / build.as_secs_f64(),
        mb(fts_size),
        fts_size as f64 / raw_text as f64
    );
    println!("\n### FTS5 queries");
    run_fts(&db, &sets, &truth)?;

    if args.require_full_recall {
        ensure!(
            full_recall,
            "tantivy did not find exactly the brute-force results"
        );
    }
    Ok(())
}

fn to_doc(m: &Message) -> Doc {
    Doc {
        id: m.id.clone(),
        conversation_id: m.conversation_id.clone(),
        sender: m.sender.clone(),
        sent_at: m.sent_at,
        text: m.text.clone(),
    }
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}

/// Indices of the messages that satisfy every need.
fn brute_force(corpus: &[Message], words: &[String], needs: &[Need]) -> Vec<usize> {
    (0..corpus.len())
        .filter(|&i| needs.iter().all(|n| n.matches(&corpus[i].text, &words[i])))
        .collect()
}

struct Stats {
    p50: Duration,
    p99: Duration,
    mean_hits: f64,
    recall: f64,
    precision: f64,
}

fn stats(mut times: Vec<Duration>, found: &[Vec<usize>], truth: &[Vec<usize>]) -> Stats {
    times.sort();
    let pct = |p: f64| percentile(&times, p);
    let (mut hit, mut want, mut got) = (0usize, 0usize, 0usize);
    for (f, t) in found.iter().zip(truth) {
        let t: HashSet<usize> = t.iter().copied().collect();
        hit += f.iter().filter(|i| t.contains(i)).count();
        want += t.len();
        got += f.len();
    }
    Stats {
        p50: pct(0.5),
        p99: pct(0.99),
        mean_hits: want as f64 / truth.len().max(1) as f64,
        recall: if want == 0 {
            1.0
        } else {
            hit as f64 / want as f64
        },
        precision: if got == 0 {
            1.0
        } else {
            hit as f64 / got as f64
        },
    }
}

fn print_row(name: &str, how: &str, s: &Stats) {
    println!(
        "| {name} | {how} | {} | {} | {:.0} | {:.2} % | {:.2} % |",
        fmt_duration(s.p50),
        fmt_duration(s.p99),
        s.mean_hits,
        s.recall * 100.0,
        s.precision * 100.0
    );
}

fn table_header() {
    println!("| query set | how | p50 | p99 | mean matches | recall | precision |");
    println!("|---|---|---|---|---|---|---|");
}

/// Times `total` + the newest 20 (what the app asks for), then checks the full result set.
fn run_tantivy(
    index: &SearchIndex,
    corpus: &[Message],
    sets: &[QuerySet],
    truth: &[Vec<Vec<usize>>],
) -> Result<bool> {
    let by_id: std::collections::HashMap<&str, usize> = corpus
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.as_str(), i))
        .collect();
    let mut exact = true;
    table_header();
    for (set, truth) in sets.iter().zip(truth) {
        let mut times = Vec::with_capacity(set.queries.len());
        let mut found = Vec::with_capacity(set.queries.len());
        for (text, _) in &set.queries {
            let mut q = Query::text(text.clone());
            q.order = Order::Newest;
            let mut page = None;
            times.push(timed(|| {
                page = Some(index.search(&q)?);
                Ok(())
            })?);
            q.limit = page.map_or(0, |p| p.total);
            let all = index.search(&q)?;
            found.push(
                all.hits
                    .iter()
                    .filter_map(|h| by_id.get(h.id.as_str()).copied())
                    .collect::<Vec<_>>(),
            );
        }
        let s = stats(times, &found, truth);
        exact &= s.recall == 1.0 && s.precision == 1.0;
        print_row(set.name, "index (newest 20 + total)", &s);
    }
    Ok(exact)
}

/// FTS5 trigram: MATCH for 3+ character terms; shorter terms can't use the trigram index, so
/// they are `LIKE '%…%'` (which FTS5 evaluates by scanning).
fn run_fts(db: &Connection, sets: &[QuerySet], truth: &[Vec<Vec<usize>>]) -> Result<()> {
    table_header();
    for (set, truth) in sets.iter().zip(truth) {
        let mut times = Vec::with_capacity(set.queries.len());
        let mut found = Vec::with_capacity(set.queries.len());
        let mut how = HashSet::new();
        for (_, needs) in &set.queries {
            let mut matches = Vec::new();
            let mut likes = Vec::new();
            for need in needs {
                let (Need::Substring(s) | Need::Word(s) | Need::Prefix(s)) = need;
                if s.chars().count() >= 3 {
                    matches.push(format!("\"{}\"", s.replace('"', "\"\"")));
                } else {
                    likes.push(format!("%{s}%"));
                }
            }
            let mut sql = String::from("SELECT rowid FROM fts WHERE ");
            let mut params: Vec<String> = Vec::new();
            let mut conds = Vec::new();
            if !matches.is_empty() {
                conds.push("fts MATCH ?".to_string());
                params.push(matches.join(" AND "));
                how.insert("MATCH");
            }
            for like in likes {
                conds.push("text LIKE ?".to_string());
                params.push(like);
                how.insert("LIKE scan");
            }
            sql.push_str(&conds.join(" AND "));
            let mut rows: Vec<usize> = Vec::new();
            times.push(timed(|| {
                let mut stmt = db.prepare_cached(&sql)?;
                rows = stmt
                    .query_map(rusqlite::params_from_iter(params.iter()), |r| {
                        r.get::<_, i64>(0)
                    })?
                    .map(|r| r.map(|rowid| rowid as usize - 1))
                    .collect::<rusqlite::Result<_>>()?;
                Ok(())
            })?);
            found.push(rows);
        }
        let mut how: Vec<&str> = how.into_iter().collect();
        how.sort();
        print_row(set.name, &how.join(" + "), &stats(times, &found, truth));
    }
    Ok(())
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

fn count_segments(dir: &Path) -> Result<usize> {
    Ok(std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "idx"))
        .count())
}

fn db_bytes(db: &Connection) -> Result<u64> {
    let pages: i64 = db.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let size: i64 = db.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    Ok((pages * size) as u64)
}

/// Where the index bytes go, per component and field (the size target's breakdown).
fn print_space_usage(dir: &Path) -> Result<()> {
    let index = tantivy::Index::open_in_dir(dir)?;
    let usage = index.reader()?.searcher().space_usage()?;
    let mut rows: std::collections::BTreeMap<(String, String), u64> = Default::default();
    for segment in usage.segments() {
        let parts = [
            ("termdict", segment.termdict()),
            ("postings", segment.postings()),
            ("positions", segment.positions()),
            ("fast", segment.fast_fields()),
            ("fieldnorms", segment.fieldnorms()),
        ];
        for (component, per_field) in parts {
            for field in per_field.fields() {
                *rows
                    .entry((component.to_string(), field.field_name().to_string()))
                    .or_default() += field.total().get_bytes();
            }
        }
        *rows
            .entry(("store".to_string(), "-".to_string()))
            .or_default() += segment.store().total().get_bytes();
    }
    println!("\nindex bytes by component/field:");
    for ((component, field), bytes) in rows.iter().filter(|(_, b)| **b > 0) {
        println!("  {component:>10} {field:<16} {:>8.2} MB", mb(*bytes));
    }
    Ok(())
}
