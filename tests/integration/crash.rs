//! Client crash safety (issue 9): a real SDK client in its own process (`hongyan-sdk-peer`)
//! is killed with SIGKILL at seeded random points, its SQLite store is checked as the kill
//! left it, and the same profile is started again.
//!
//! - sender: killed in the middle of bursts; every message `send_text` had accepted is in the
//!   store at the kill, the store passes `PRAGMA integrity_check`, and after the restarts the
//!   outbox has resent everything: the recipient has each message exactly once (its own store
//!   and a fresh device's sync from the server).
//! - recipient: killed while it stores and indexes a burst, its search index then deleted or
//!   damaged between runs; after the restart search finds every stored message by itself.
//!
//! The seed is `HONGYAN_CRASH_SEED` (default 9); it is printed, so a failure can be replayed.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use hongyan_sdk::search::{IndexState, Query, DIR_NAME};
use hongyan_tests::{acked, wait_until, TestClient, TestServer, Via};
use rand::{rngs::StdRng, Rng, SeedableRng};
use rusqlite::{Connection, OpenFlags};
use tokio::{
    io::{AsyncBufReadExt, BufReader, Lines},
    process::{Child, ChildStdout, Command},
};

const PEER_BIN: &str = env!("CARGO_BIN_EXE_hongyan-sdk-peer");

fn rng() -> StdRng {
    let seed = std::env::var("HONGYAN_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(9);
    println!("HONGYAN_CRASH_SEED={seed}");
    StdRng::seed_from_u64(seed)
}

/// A `hongyan-sdk-peer` process on `client`'s profile dir and its stdout, line by line.
struct Peer {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Peer {
    fn start(server: &TestServer, via: Via, dir: &Path, mode: &[&str]) -> Self {
        let via = match via {
            Via::Ws => "ws",
            Via::Tcp => "tcp",
        };
        let mut child = Command::new(PEER_BIN)
            .arg(server.url())
            .arg(server.tcp_addr().to_string())
            .arg(via)
            .arg(dir)
            .args(mode)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start hongyan-sdk-peer");
        let stdout = child.stdout.take().expect("peer stdout");
        Self {
            child,
            lines: BufReader::new(stdout).lines(),
        }
    }

    /// The next line; panics if the process ended or said nothing for [`hongyan_tests::clients::WAIT`].
    async fn next_line(&mut self) -> String {
        tokio::time::timeout(hongyan_tests::clients::WAIT, self.lines.next_line())
            .await
            .expect("the peer fell silent")
            .expect("read the peer's stdout")
            .expect("the peer exited")
    }

    /// SIGKILL, then every line it had printed before it died.
    async fn kill9(mut self) -> Vec<String> {
        self.child.start_kill().expect("SIGKILL the peer");
        let status = self.child.wait().await.expect("reap the peer");
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9),
            "the peer died of SIGKILL, not otherwise ({status})"
        );
        let mut rest = Vec::new();
        while let Some(line) = self
            .lines
            .next_line()
            .await
            .expect("drain the peer's stdout")
        {
            rest.push(line);
        }
        rest
    }
}

/// The store as the kill left it, read-only (no checkpoint, no recovery written): passes
/// `PRAGMA integrity_check`; the ids of its messages and how many wait in the outbox.
fn check_store(store: &Path) -> (HashSet<String>, usize) {
    let db = Connection::open_with_flags(store, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the killed client's store");
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(integrity, "ok", "store damaged by the kill");
    let mut ids = db.prepare("SELECT id FROM messages").expect("prepare");
    let ids = ids
        .query_map([], |r| r.get::<_, String>(0))
        .expect("messages")
        .collect::<Result<HashSet<_>, _>>()
        .expect("message ids");
    let outbox: usize = db
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .expect("outbox");
    (ids, outbox)
}

/// The search watermark (`sync_state.search_indexed_rowid`: the highest `messages.rowid` in
/// the committed index, 0 before the first commit) and the highest rowid stored.
fn index_progress(store: &Path) -> (i64, i64) {
    let db = Connection::open_with_flags(store, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the store");
    let watermark: Option<String> = db
        .query_row(
            "SELECT value FROM sync_state WHERE key = 'search_indexed_rowid'",
            [],
            |r| r.get(0),
        )
        .ok();
    let highest: i64 = db
        .query_row("SELECT coalesce(max(rowid), 0) FROM messages", [], |r| {
            r.get(0)
        })
        .expect("highest rowid");
    let watermark = watermark.and_then(|w| w.parse().ok()).unwrap_or(0);
    (watermark, highest)
}

fn store_path(client: &TestClient) -> PathBuf {
    client
        .client
        .account_dir(&client.user_id)
        .join("store.sqlite3")
}

fn id_set(messages: &[hongyan_sdk::Message]) -> HashSet<String> {
    let ids: HashSet<String> = messages.iter().map(|m| m.id.clone()).collect();
    assert_eq!(ids.len(), messages.len(), "a message is stored twice");
    ids
}

#[tokio::test]
async fn sender_killed_mid_burst_resends_every_accepted_message_exactly_once() {
    const RUNS: usize = 4;
    const BURST: usize = 60;
    let server = TestServer::start().await;
    let alice = TestClient::register(&server, "alice", Via::Ws).await;
    let bob = TestClient::register(&server, "bob", Via::Tcp).await;
    alice.befriend(&bob).await;
    let store = store_path(&alice);
    let dir = alice.dir.clone();
    let mut rng = rng();
    let mut accepted: Vec<String> = Vec::new();
    let mut unacked_at_kills = Vec::new();

    // The in-process client stops; the profile runs in killed processes; then it resumes.
    let alice = alice
        .restart_after(async {
            for run in 0..RUNS {
                let kill_after = rng.gen_range(3..BURST - 10);
                let prefix = format!("crashsend r{run}");
                let mut peer = Peer::start(
                    &server,
                    Via::Ws,
                    dir.path(),
                    &["send", &bob.user_id, &BURST.to_string(), &prefix, "3"],
                );
                let mut lines = Vec::new();
                while lines.len() < kill_after {
                    lines.push(peer.next_line().await);
                }
                lines.extend(peer.kill9().await);
                let sent: Vec<String> = lines
                    .iter()
                    .filter_map(|l| l.strip_prefix("sent ").map(str::to_owned))
                    .collect();
                assert!(sent.len() >= kill_after, "{lines:?}");
                let (stored, outbox) = check_store(&store);
                for id in &sent {
                    assert!(stored.contains(id), "accepted {id} is not in the store");
                }
                println!(
                    "run {run}: killed after {} accepted (asked {kill_after}), {outbox} unacked in the outbox",
                    sent.len()
                );
                unacked_at_kills.push(outbox);
                accepted.extend(sent);
            }
        })
        .await;

    // The restarted SDK resends what the last kill left and everything gets ACKed.
    let peer = bob.user_id.clone();
    wait_until("every own message is acknowledged", || async {
        let conv = alice.conversation(&peer).await;
        conv.len() >= accepted.len() && conv.iter().all(|m| acked(&m.status))
    })
    .await;
    let own = id_set(&alice.conversation(&bob.user_id).await);
    for id in &accepted {
        assert!(
            own.contains(id),
            "accepted {id} missing from the sender's store"
        );
    }

    // The recipient has each exactly once; so has the server (a fresh device syncs it).
    let received = bob.wait_conversation_len(&alice.user_id, own.len()).await;
    assert_eq!(id_set(&received), own, "recipient's messages differ");
    let fresh = bob.another_device().await;
    let synced = fresh.wait_conversation_len(&alice.user_id, own.len()).await;
    assert_eq!(id_set(&synced), own, "the server's copy differs");
    println!(
        "kills {RUNS}, accepted {}, stored {}, unacked at the kills {unacked_at_kills:?} (resent after a restart: {}), delivered {} once each",
        accepted.len(),
        own.len(),
        unacked_at_kills.iter().sum::<usize>(),
        received.len()
    );
}

/// How the index is left between the kill and the next start.
#[derive(Debug, Clone, Copy)]
enum Damage {
    None,
    Deleted,
    /// Garbage over tantivy's `meta.json` and every segment file.
    Corrupted,
    /// Garbage over the segment files only: `meta.json` still names them.
    SegmentsCorrupted,
}

/// Damages the index as `how` says; the files it deleted or overwrote.
fn damage(index: &Path, how: Damage) -> usize {
    match how {
        Damage::None => 0,
        Damage::Deleted => {
            let files = std::fs::read_dir(index).expect("index dir").count();
            std::fs::remove_dir_all(index).expect("delete the index");
            files
        }
        Damage::Corrupted | Damage::SegmentsCorrupted => {
            let mut files = 0;
            // Garbage over every segment file and tantivy's meta.json.
            for entry in std::fs::read_dir(index).expect("index dir") {
                let path = entry.expect("index entry").path();
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                let keep_meta = matches!(how, Damage::SegmentsCorrupted) && name == "meta.json";
                if name.starts_with('.') || name.ends_with(".version") || path.is_dir() || keep_meta
                {
                    continue;
                }
                let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                let junk: Vec<u8> = (0..len.max(16)).map(|i| (i * 7 % 251) as u8).collect();
                std::fs::write(&path, junk).expect("corrupt an index file");
                files += 1;
            }
            assert!(files > 1, "segment files to corrupt");
            files
        }
    }
}

/// Every id search finds for `word`, paging through all hits.
async fn search_ids(client: &TestClient, word: &str) -> Vec<String> {
    let mut ids = Vec::new();
    loop {
        let page = client
            .client
            .search(Query {
                text: word.into(),
                offset: ids.len(),
                limit: 100,
                ..Query::default()
            })
            .await
            .expect("search");
        if page.hits.is_empty() {
            return ids;
        }
        ids.extend(page.hits.into_iter().map(|h| h.message.id));
    }
}

#[tokio::test]
async fn recipient_killed_while_indexing_search_heals_itself() {
    const BURST: usize = 80;
    let runs = [
        Damage::None,
        Damage::Deleted,
        Damage::Corrupted,
        Damage::SegmentsCorrupted,
    ];
    let server = TestServer::start().await;
    let alice = TestClient::register(&server, "alice", Via::Ws).await;
    let bob = TestClient::register(&server, "bob", Via::Tcp).await;
    alice.befriend(&bob).await;
    let store = store_path(&bob);
    let index = bob.client.account_dir(&bob.user_id).join(DIR_NAME);
    let dir = bob.dir.clone();
    let bob_id = bob.user_id.clone();
    let mut rng = rng();
    let started = std::time::Instant::now();

    let bob = bob
        .restart_after(async {
            for (run, how) in runs.iter().enumerate() {
                let mut peer = Peer::start(&server, Via::Tcp, dir.path(), &["receive"]);
                assert_eq!(peer.next_line().await, "ready");
                let before = index_progress(&store).0;
                let kill_after = rng.gen_range(5..BURST - 20);
                // The burst goes on while the recipient stores, indexes and is killed.
                let send = async {
                    for i in 0..BURST {
                        alice.send(&bob_id, &format!("crashindex r{run} w{i}")).await;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                };
                let kill = async {
                    let mut got = 0;
                    while got < kill_after {
                        if peer.next_line().await.starts_with("got ") {
                            got += 1;
                        }
                    }
                    // Killed with part of this run in the committed index.
                    wait_until("the index commits part of the run", || async {
                        index_progress(&store).0 > before
                    })
                    .await;
                    let rest = peer.kill9().await;
                    got + rest.iter().filter(|l| l.starts_with("got ")).count()
                };
                let ((), got) = tokio::join!(send, kill);
                let (stored, _) = check_store(&store);
                let (indexed, highest) = index_progress(&store);
                println!(
                    "run {run}: killed after {got} received, {} stored, index watermark at rowid {indexed} of {highest}, then {how:?} ({:?})",
                    stored.len(),
                    started.elapsed()
                );
                let files = damage(&index, *how);
                println!("run {run}: {how:?}, {files} index files");
            }
        })
        .await;

    // Everything sent reaches the store (the rest by sync) and search finds all of it.
    let total = runs.len() * BURST;
    let texts = bob.wait_conversation_len(&alice.user_id, total).await;
    let stored = id_set(&texts);
    assert_eq!(stored.len(), total, "not every message reached the store");
    println!("restarted, all stored ({:?})", started.elapsed());
    wait_until("search finds every stored message", || async {
        let found = search_ids(&bob, "crashindex").await;
        found.len() == total && found.iter().cloned().collect::<HashSet<_>>() == stored
    })
    .await;
    println!("search finds all {total} ({:?})", started.elapsed());
    wait_until("the index is ready", || async {
        bob.client.index_status().state == IndexState::Ready
    })
    .await;
    // A word of one message finds exactly that one.
    let last = texts.last().expect("a message");
    let word = last.content.rsplit(' ').next().expect("a word");
    let run = last.content.split(' ').nth(1).expect("a run");
    let hits = bob
        .client
        .search(Query {
            text: format!("{run} {word}"),
            ..Query::default()
        })
        .await
        .expect("search");
    assert_eq!(hits.total, 1, "{:?}", last.content);
    assert_eq!(hits.hits[0].message.id, last.id);
}
