//! The search benchmark end to end on a small corpus (the recorded run is 1M messages, see
//! docs/BENCHMARKS.md): it builds both indexes, runs every query set, and fails unless
//! tantivy finds exactly what the brute-force scan finds.

use std::process::Command;

#[test]
fn search_bench_runs_and_tantivy_has_full_recall() {
    let out = Command::new(env!("CARGO_BIN_EXE_hongyan-search-bench"))
        .args([
            "--messages",
            "3000",
            "--queries",
            "15",
            "--require-full-recall",
        ])
        .output()
        .expect("run hongyan-search-bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for section in ["tantivy build", "FTS5 trigram", "2-char CJK", "two terms"] {
        assert!(stdout.contains(section), "missing {section}:\n{stdout}");
    }
}
