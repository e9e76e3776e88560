//! The real `hongyan-server` process under test.

use std::{
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

/// How long the server may take to print its "listening" line.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `hongyan-server` with its own data dir. Killed on drop.
pub struct TestServer {
    child: Option<Child>,
    data_dir: TempDir,
    http: SocketAddr,
    tcp: SocketAddr,
    extra_args: Vec<String>,
}

impl TestServer {
    /// Starts a server on free ports with a fresh data dir.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Starts a server with extra command-line flags.
    pub async fn start_with(extra_args: &[&str]) -> Self {
        let data_dir = tempfile::tempdir().expect("temp data dir");
        let extra_args: Vec<String> = extra_args.iter().map(|s| s.to_string()).collect();
        let (child, http, tcp) =
            spawn(data_dir.path(), "127.0.0.1:0", "127.0.0.1:0", &extra_args).await;
        Self {
            child: Some(child),
            data_dir,
            http,
            tcp,
            extra_args,
        }
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
        self.data_dir.path()
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
        tokio::time::timeout(Duration::from_secs(20), child.wait())
            .await
            .expect("server exits within 20 s of SIGTERM")
            .expect("wait for server")
    }

    /// Starts the server again on the same data dir and the same ports.
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "stop the server before restarting it");
        let (child, http, tcp) = spawn(
            self.data_dir.path(),
            &self.http.to_string(),
            &self.tcp.to_string(),
            &self.extra_args,
        )
        .await;
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

async fn spawn(
    data_dir: &Path,
    http: &str,
    tcp: &str,
    extra_args: &[String],
) -> (Child, SocketAddr, SocketAddr) {
    let mut cmd = Command::new(server_bin());
    cmd.args(["--http-addr", http, "--tcp-addr", tcp, "--data-dir"])
        .arg(data_dir)
        .args(extra_args)
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    let mut child = cmd.spawn().expect("spawn hongyan-server");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(START_TIMEOUT, async {
        while let Some(line) = lines.next_line().await.expect("read server stdout") {
            if line.starts_with("hongyan-server listening") {
                return line;
            }
        }
        panic!("hongyan-server exited before listening");
    })
    .await
    .expect("hongyan-server did not start in time");
    // Keep draining stdout so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let (http, tcp) = parse_listening(&line);
    (child, http, tcp)
}

/// Parses `hongyan-server listening http=<addr> tcp=<addr>`.
fn parse_listening(line: &str) -> (SocketAddr, SocketAddr) {
    let field = |name: &str| -> SocketAddr {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {line:?}"))
    };
    (field("http="), field("tcp="))
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
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build for hongyan-server");
        assert!(status.success(), "building hongyan-server failed");
        profile_dir.join("hongyan-server")
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_listening_line() {
        let (h, t) =
            parse_listening("hongyan-server listening http=127.0.0.1:3000 tcp=127.0.0.1:8901");
        assert_eq!(h.port(), 3000);
        assert_eq!(t.port(), 8901);
    }
}
