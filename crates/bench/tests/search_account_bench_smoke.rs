//! The SDK-level search benchmark end to end on a small account (the recorded run is 1M
//! messages, see docs/BENCHMARKS.md): a real server and `Client`, the store filled, the
//! index rebuilt at login, every query set timed; it fails unless every `Client::search`
//! total equals the brute-force count over the store and every page is right.

use std::process::Command;

#[test]
fn search_account_bench_runs_and_search_is_complete() {
    let out = Command::new(env!("CARGO_BIN_EXE_hongyan-search-account-bench"))
        .arg("--server-bin")
        .arg(hongyan_tests::server_bin())
        .args([
            "--messages",
            "3000",
            "--queries",
            "10",
            "--like-queries",
            "3",
            "--require-complete",
        ])
        .output()
        .expect("run hongyan-search-account-bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for section in [
        "Rebuild from the store",
        "IndexProgress",
        "Client::search, first page of 30",
        "2-char CJK in one conversation",
        "| two terms (word + 2-char CJK) | relevance |",
        "LIKE",
        "complete (every Client::search and hongyan-search total = brute force, every page right): yes",
    ] {
        assert!(stdout.contains(section), "missing {section}:\n{stdout}");
    }
}
