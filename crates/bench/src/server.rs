//! Starts the real `hongyan-server` binary for a benchmark and reads its memory use.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use anyhow::{bail, Context, Result};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

/// A `hongyan-server` child process on loopback, killed on drop.
pub struct ServerProcess {
    child: Child,
    pub http: SocketAddr,
    pub tcp: SocketAddr,
}

impl ServerProcess {
    /// Starts `bin` on free loopback ports with `data_dir`.
    pub async fn start(bin: &Path, data_dir: &Path, extra: &[&str]) -> Result<Self> {
        let mut child = Command::new(bin)
            .args([
                "--http-addr",
                "127.0.0.1:0",
                "--tcp-addr",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(data_dir)
            .args(extra)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await? {
                if line.starts_with("hongyan-server listening") {
                    return Ok(line);
                }
            }
            bail!("server exited before listening")
        })
        .await
        .context("server did not start within 30 s")??;
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let addr = |name: &str| -> Result<SocketAddr> {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(name))
                .context("malformed listening line")?
                .parse()
                .context("bad address in listening line")
        };
        Ok(Self {
            http: addr("http=")?,
            tcp: addr("tcp=")?,
            child,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.http)
    }

    /// Resident set size of the server process in bytes (Linux `/proc`).
    pub fn rss_bytes(&self) -> Result<u64> {
        let pid = self.child.id().context("server has exited")?;
        rss_of(pid)
    }
}

/// VmRSS of `pid` in bytes.
pub fn rss_of(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmRSS in /proc status")?;
    Ok(kb * 1024)
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
