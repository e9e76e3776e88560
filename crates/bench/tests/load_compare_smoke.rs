//! `hongyan-load compare` end to end at a tiny size (the recorded run is in docs/BENCHMARKS.md,
//! "Many nodes"): the SQLite baseline and 2 nodes on a real PostgreSQL + nats-server, chat and
//! idle. With 2 nodes every pair's ends are on different nodes, so messages delivered there
//! crossed NATS; both nodes must have stored messages, and the tables must come out.

use std::process::Command;

/// The `key=<number>` values of every line that has `key`.
fn values(stdout: &str, key: &str) -> Vec<f64> {
    stdout
        .split_whitespace()
        .filter_map(|w| w.strip_prefix(key)?.parse().ok())
        .collect()
}

#[test]
fn compare_runs_the_baseline_and_two_nodes_and_messages_cross_nodes() {
    let server = hongyan_tests::server_bin();
    let out = Command::new(env!("CARGO_BIN_EXE_hongyan-load"))
        .arg("--server-bin")
        .arg(&server)
        .args([
            "compare",
            "--clients",
            "4",
            "--seconds",
            "1",
            "--window",
            "2",
        ])
        .args([
            "--max-messages",
            "20000",
            "--nodes",
            "2",
            "--idle-conns",
            "10",
        ])
        .env("RUST_LOG", "off")
        .output()
        .expect("run hongyan-load");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let delivered = values(&stdout, "delivered_per_sec=");
    assert_eq!(delivered.len(), 2, "two chat runs:\n{stdout}");
    assert!(
        delivered.iter().all(|d| *d > 0.0),
        "{delivered:?}\n{stdout}"
    );
    // node0 of the baseline, then node0 and node1 of the cluster: each stored messages.
    let stored = values(&stdout, "stored=");
    assert_eq!(stored.len(), 3, "{stdout}");
    assert!(stored.iter().all(|s| *s > 0.0), "{stored:?}\n{stdout}");
    let conns: Vec<f64> = values(&stdout, "conns=");
    assert_eq!(conns, [4.0, 2.0, 2.0], "{stdout}");
    // Idle: 10 per node, one line per node.
    assert_eq!(
        values(&stdout, "idle_conns="),
        [10.0, 10.0, 10.0],
        "{stdout}"
    );
    for table in [
        "| SQLite, 1 node | ",
        "| PostgreSQL + NATS, 2 nodes | ",
        "Where the time goes",
        "waiting for a row lock",
        "nats-server per connection KB",
    ] {
        assert!(stdout.contains(table), "missing {table:?}:\n{stdout}");
    }
}
