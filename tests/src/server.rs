//! The real `hongyan-server` process, started on loopback for a test or a benchmark.
//!
//! One implementation serves the cross-crate integration tests (`tests/integration/`), the
//! server's own black-box tests (`crates/server/tests/`) and the load generator
//! (`crates/bench`): spawn the binary on free ports, read its `hongyan-server listening
//! http=<addr> tcp=<addr>` line, keep draining stdout, and kill, terminate or restart it.

use std::{
    io,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{ExitStatus, Stdio},
    sync::OnceLock,
    time::Duration,
};

use tempfile::TempDir;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

use crate::database::{test_postgres, Backend, TestDatabase};

/// How long the server may take to print its "listening" line.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the server may take to exit after SIGTERM.
const TERM_TIMEOUT: Duration = Duration::from_secs(20);

/// How to start a [`TestServer`]; see [`TestServer::builder`].
#[derive(Debug, Clone)]
pub struct ServerBuilder {
    bin: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    args: Vec<String>,
    backend: Backend,
    quiet: bool,
    log_default: String,
    log_filter: Option<String>,
    log_file: Option<PathBuf>,
}

impl Default for ServerBuilder {
    fn default() -> Self {
        Self {
            bin: None,
            data_dir: None,
            args: Vec::new(),
            backend: Backend::FromEnv,
            quiet: false,
            log_default: "info".into(),
            log_filter: None,
            log_file: None,
        }
    }
}

impl ServerBuilder {
    /// The server binary; default [`server_bin()`].
    pub fn bin(mut self, bin: impl Into<PathBuf>) -> Self {
        self.bin = Some(bin.into());
        self
    }

    /// The data dir (kept after the server is gone; it need not exist yet); default a fresh
    /// temp dir removed with the server.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Extra command-line flags, after the address and data-dir flags.
    pub fn args<S: AsRef<str>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// `--friends-only <bool>`: 1:1 chat and group invitations between friends only.
    pub fn friends_only(self, on: bool) -> Self {
        self.args(["--friends-only", if on { "true" } else { "false" }])
    }

    /// The embedded SQLite in the data dir, even on the PostgreSQL pass.
    pub fn sqlite(mut self) -> Self {
        self.backend = Backend::Sqlite;
        self
    }

    /// `--postgres <url>`: this existing database, shared and kept (e.g. by a cluster's
    /// nodes). Without this or [`Self::sqlite`], `$HONGYAN_TEST_POSTGRES` decides.
    pub fn postgres(mut self, url: impl Into<String>) -> Self {
        self.backend = Backend::Postgres(url.into());
        self
    }

    /// Discards the server's stderr (its logs) instead of inheriting it.
    pub fn quiet(mut self, quiet: bool) -> Self {
        self.quiet = quiet;
        self
    }

    /// `RUST_LOG` for the server when the environment sets none; default `info`.
    pub fn log_default(mut self, filter: impl Into<String>) -> Self {
        self.log_default = filter.into();
        self
    }

    /// `RUST_LOG` for the server whatever the environment says (e.g. `trace` for a test
    /// that reads every log line).
    pub fn log_filter(mut self, filter: impl Into<String>) -> Self {
        self.log_filter = Some(filter.into());
        self
    }

    /// Writes the server's stderr (its logs) to this file (appending) instead of inheriting it.
    pub fn log_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.log_file = Some(path.into());
        self
    }

    /// Starts the server on free loopback ports.
    pub async fn try_start(self) -> io::Result<TestServer> {
        let data = match &self.data_dir {
            Some(dir) => DataDir::Given(dir.clone()),
            None => DataDir::Temp(tempfile::tempdir()?),
        };
        let (postgres, database) = match (&self.backend, test_postgres()) {
            (Backend::Sqlite, _) | (Backend::FromEnv, None) => (None, None),
            (Backend::Postgres(url), _) => (Some(url.clone()), None),
            // A data dir the test chose may be started on again: it keeps its database.
            (Backend::FromEnv, Some(server)) if matches!(data, DataDir::Given(_)) => {
                let url = TestDatabase::for_data_dir(&server, data.path()).await?;
                (Some(url), None)
            }
            (Backend::FromEnv, Some(server)) => {
                let db = TestDatabase::create(&server).await?;
                (Some(db.url().to_owned()), Some(db))
            }
        };
        let (child, http, tcp) = spawn(
            &self,
            data.path(),
            postgres.as_deref(),
            "127.0.0.1:0",
            "127.0.0.1:0",
        )
        .await?;
        Ok(TestServer {
            child: Some(child),
            data,
            http,
            tcp,
            opts: self,
            postgres,
            _database: database,
        })
    }

    /// Starts the server on free loopback ports; panics if it does not come up.
    pub async fn start(self) -> TestServer {
        self.try_start()
            .await
            .unwrap_or_else(|e| panic!("starting hongyan-server: {e}"))
    }
}

#[derive(Debug)]
enum DataDir {
    Temp(TempDir),
    Given(PathBuf),
}

impl DataDir {
    fn path(&self) -> &Path {
        match self {
            DataDir::Temp(tmp) => tmp.path(),
            DataDir::Given(dir) => dir,
        }
    }
}

/// A running `hongyan-server` with its own data dir (and, on PostgreSQL, its database).
/// Killed on drop; a database made for it is dropped after it.
#[derive(Debug)]
pub struct TestServer {
    child: Option<Child>,
    data: DataDir,
    http: SocketAddr,
    tcp: SocketAddr,
    opts: ServerBuilder,
    /// `--postgres` URL, when the server runs on PostgreSQL.
    postgres: Option<String>,
    /// The database created for this server alone (dropped after the server is killed).
    _database: Option<TestDatabase>,
}

impl TestServer {
    /// Options for a server: binary, data dir, flags, logging.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// Starts a server on free ports with a fresh data dir.
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// Starts a server with extra command-line flags.
    pub async fn start_with(extra_args: &[&str]) -> Self {
        Self::builder().args(extra_args).start().await
    }

    /// `http://127.0.0.1:<port>`: the HTTP API and the WebSocket gateway.
    pub fn url(&self) -> String {
        format!("http://{}", self.http)
    }

    /// `ws://127.0.0.1:<port>/websocket`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/websocket", self.http)
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http
    }

    pub fn tcp_addr(&self) -> SocketAddr {
        self.tcp
    }

    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// The PostgreSQL database URL the server runs on; `None` on SQLite.
    pub fn postgres_url(&self) -> Option<&str> {
        self.postgres.as_deref()
    }

    /// Whether the process runs (it has not been killed, terminated or seen to exit).
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// The process id, while the server runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// Resident set size of the server process in bytes (Linux `/proc`).
    pub fn rss_bytes(&self) -> io::Result<u64> {
        let pid = self
            .pid()
            .ok_or_else(|| io::Error::other("server is not running"))?;
        rss_of(pid)
    }

    /// Kills the process with SIGKILL (a crash: no chance to clean up).
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("kill server");
        }
    }

    /// Sends SIGTERM and waits for the exit status (graceful shutdown).
    pub async fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("server is running");
        let pid = child.id().expect("pid");
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        tokio::time::timeout(TERM_TIMEOUT, child.wait())
            .await
            .unwrap_or_else(|_| panic!("server exits within {TERM_TIMEOUT:?} of SIGTERM"))
            .expect("wait for server")
    }

    /// Creates an administrator account with `hongyan-server admin create-user --admin`
    /// on this server's store (data dir or database; safe while it runs); returns the user id.
    pub async fn create_admin(&self, username: &str, password: &str) -> io::Result<String> {
        self.create_user(username, password, true).await
    }

    /// Creates an account with `hongyan-server admin create-user` on this server's store
    /// (data dir or database; an administrator when `admin`); returns the user id.
    pub async fn create_user(
        &self,
        username: &str,
        password: &str,
        admin: bool,
    ) -> io::Result<String> {
        let bin = self.opts.bin.clone().unwrap_or_else(server_bin);
        let mut cmd = Command::new(&bin);
        cmd.args(["admin", "create-user", "--data-dir"])
            .arg(self.data.path())
            .args(["--username", username, "--password", password]);
        if let Some(url) = &self.postgres {
            cmd.args(["--postgres", url]);
        }
        if admin {
            cmd.arg("--admin");
        }
        clear_deployment_env(&mut cmd);
        let out = cmd.stdin(Stdio::null()).output().await?;
        if !out.status.success() {
            return Err(io::Error::other(format!(
                "admin create-user failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| io::Error::other(format!("admin create-user printed {text:?}: {e}")))?;
        value["user_id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| io::Error::other(format!("no user_id in {text:?}")))
    }

    /// Starts the server again on the same data dir and the same ports.
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "stop the server before restarting it");
        let (child, http, tcp) = spawn(
            &self.opts,
            self.data.path(),
            self.postgres.as_deref(),
            &self.http.to_string(),
            &self.tcp.to_string(),
        )
        .await
        .unwrap_or_else(|e| panic!("restarting hongyan-server: {e}"));
        assert_eq!(
            (http, tcp),
            (self.http, self.tcp),
            "restarted on the same ports"
        );
        self.child = Some(child);
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
    }
}

/// Removes the deployment settings a developer's shell may export (e.g. after `npm run
/// cluster`), so a test server gets only what its test gives it.
fn clear_deployment_env(cmd: &mut Command) {
    for var in [
        "HONGYAN_POSTGRES",
        "HONGYAN_NATS",
        "HONGYAN_NODE_NAME",
        "HONGYAN_MEDIA_DIR",
        "HONGYAN_RELEASES_DIR",
        "HONGYAN_DATA_DIR",
    ] {
        cmd.env_remove(var);
    }
}

async fn spawn(
    opts: &ServerBuilder,
    data_dir: &Path,
    postgres: Option<&str>,
    http: &str,
    tcp: &str,
) -> io::Result<(Child, SocketAddr, SocketAddr)> {
    let bin = opts.bin.clone().unwrap_or_else(server_bin);
    let mut cmd = Command::new(&bin);
    cmd.args(["--http-addr", http, "--tcp-addr", tcp, "--data-dir"])
        .arg(data_dir);
    if let Some(url) = postgres {
        cmd.args(["--postgres", url]);
    }
    clear_deployment_env(&mut cmd);
    cmd.args(&opts.args)
        .env_remove("HONGYAN_HTTP_ADDR")
        .env_remove("HONGYAN_TCP_ADDR")
        .env(
            "RUST_LOG",
            opts.log_filter.clone().unwrap_or_else(|| {
                std::env::var("RUST_LOG").unwrap_or_else(|_| opts.log_default.clone())
            }),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(match &opts.log_file {
            Some(path) => Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?,
            ),
            None if opts.quiet => Stdio::null(),
            None => Stdio::inherit(),
        })
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .map_err(|e| io::Error::new(e.kind(), format!("spawning {}: {e}", bin.display())))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(START_TIMEOUT, async {
        while let Some(line) = lines.next_line().await? {
            if line.starts_with("hongyan-server listening") {
                return Ok(line);
            }
        }
        Err(io::Error::other("hongyan-server exited before listening"))
    })
    .await
    .map_err(|_| {
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!("hongyan-server did not start within {START_TIMEOUT:?}"),
        )
    })??;
    // Keep draining stdout so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let (http, tcp) = parse_listening(&line)?;
    Ok((child, http, tcp))
}

/// Parses `hongyan-server listening http=<addr> tcp=<addr>`.
fn parse_listening(line: &str) -> io::Result<(SocketAddr, SocketAddr)> {
    let field = |name: &str| -> io::Result<SocketAddr> {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| io::Error::other(format!("no {name} in {line:?}")))
    };
    Ok((field("http=")?, field("tcp=")?))
}

/// VmRSS of `pid` in bytes.
pub fn rss_of(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| io::Error::other("no VmRSS in /proc status"))?;
    Ok(kb * 1024)
}

/// The server binary: `$HONGYAN_SERVER_BIN`, else the one beside this test executable in the
/// cargo target dir, built (once per test process) so it is never stale.
pub fn server_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(bin) = std::env::var("HONGYAN_SERVER_BIN") {
            return PathBuf::from(bin);
        }
        let exe = std::env::current_exe().expect("test executable path");
        // target/<profile>/deps/<test> → target/<profile>
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test executable lives in target/<profile>/deps");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = std::process::Command::new(cargo);
        build.args(["build", "-p", "hongyan-server", "--bin", "hongyan-server"]);
        clear_test_build_env(&mut build);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build for hongyan-server");
        assert!(status.success(), "building hongyan-server failed");
        profile_dir.join("hongyan-server")
    })
    .clone()
}

/// Removes the variables cargo sets for a running test (`CARGO_MANIFEST_DIR`, `CARGO_PKG_*`,
/// …) from a nested `cargo build`: build scripts that watch one of them (ring watches
/// `CARGO_MANIFEST_DIR`) would otherwise be rebuilt, with everything above them, each time a
/// build from a test and a build from a shell take turns.
fn clear_test_build_env(build: &mut std::process::Command) {
    const SET_FOR_TESTS: [&str; 8] = [
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "OUT_DIR",
    ];
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if SET_FOR_TESTS.contains(&key)
            || key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_BIN_EXE_")
        {
            build.env_remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_listening_line() {
        let (h, t) =
            parse_listening("hongyan-server listening http=127.0.0.1:3000 tcp=127.0.0.1:8901")
                .expect("parses");
        assert_eq!(h.port(), 3000);
        assert_eq!(t.port(), 8901);
        assert!(parse_listening("hongyan-server listening http=nope").is_err());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_own_rss() {
        assert!(rss_of(std::process::id()).expect("VmRSS") > 0);
    }
}
