//! The `hongyan-server` process a benchmark measures: `hongyan_tests::TestServer` (spawn on
//! free loopback ports, stdout draining, RSS), started from the binary the user names.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
pub use hongyan_tests::TestServer;

/// Starts `bin` on free loopback ports with embedded SQLite in `data_dir` (whatever
/// `$HONGYAN_TEST_POSTGRES` says: a benchmark names its backend), logs at `warn` unless
/// `RUST_LOG`.
pub async fn start(bin: &Path, data_dir: &Path, extra: &[&str]) -> Result<TestServer> {
    TestServer::builder()
        .bin(bin)
        .sqlite()
        .data_dir(data_dir)
        .args(extra)
        .log_default("warn")
        .try_start()
        .await
        .context("starting hongyan-server")
}

/// The `hongyan-server` binary: the flag, else the one beside this executable.
pub fn server_bin(flag: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(bin) = flag {
        return Ok(bin);
    }
    let exe = std::env::current_exe()?;
    let bin = exe
        .parent()
        .context("executable has no folder")?
        .join("hongyan-server");
    if !bin.exists() {
        bail!(
            "{} not found: build it (cargo build --release -p hongyan-server) or pass --server-bin",
            bin.display()
        );
    }
    Ok(bin)
}
