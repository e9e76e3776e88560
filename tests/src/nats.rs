//! A real `nats-server` (core NATS, no JetStream) on a free 127.0.0.1 port for a test; it can
//! be killed and started again on the same port, to test what happens while NATS is down.

use std::{
    fs, io,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use tempfile::TempDir;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    net::TcpStream,
};

use crate::daemon::{free_port, Daemon};

/// How long nats-server may take to greet a client after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long nats-server may take to exit after SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// A running (or stopped, see [`NatsServer::kill`]) nats-server; stopped on drop.
#[derive(Debug)]
pub struct NatsServer {
    daemon: Option<Daemon>,
    port: u16,
    dir: TempDir,
}

impl NatsServer {
    /// Starts nats-server on a free port; panics with the reason (and its log) when it cannot.
    pub async fn start() -> Self {
        Self::try_start()
            .await
            .unwrap_or_else(|e| panic!("starting nats-server: {e}"))
    }

    /// Starts nats-server on a free port.
    pub async fn try_start() -> io::Result<Self> {
        let mut server = Self {
            daemon: None,
            port: free_port()?,
            dir: tempfile::Builder::new().prefix("hongyan-nats-").tempdir()?,
        };
        server.spawn().await?;
        Ok(server)
    }

    /// `nats://127.0.0.1:<port>` (the same across [`Self::restart`]).
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn is_running(&mut self) -> bool {
        self.daemon.as_mut().is_some_and(|d| d.exited().is_none())
    }

    /// The server's log (its stderr, across restarts).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("nats.log")).unwrap_or_default()
    }

    /// SIGKILLs the server (NATS goes down abruptly; clients see their connection drop).
    pub fn kill(&mut self) {
        if let Some(mut daemon) = self.daemon.take() {
            daemon.kill();
        }
    }

    /// Stops the server gracefully (SIGTERM).
    pub fn stop(&mut self) {
        if let Some(mut daemon) = self.daemon.take() {
            daemon.stop("TERM", STOP_GRACE);
        }
    }

    /// Starts the server again on the same port (after [`Self::kill`] or [`Self::stop`]).
    pub async fn restart(&mut self) -> io::Result<()> {
        if self.is_running() {
            return Err(io::Error::other("nats-server is still running"));
        }
        self.spawn().await
    }

    async fn spawn(&mut self) -> io::Result<()> {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("nats.log"))?;
        let mut cmd = Command::new(nats_server_bin());
        // Core NATS only; the monitoring port stays off (its default).
        cmd.args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let daemon = Daemon::spawn("nats-server", cmd).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("{e} (install the Debian package `nats-server`: `bash scripts/setup.sh test` does)"),
            )
        })?;
        self.daemon = Some(daemon);
        self.wait_ready().await
    }

    /// Ready when a client connection gets the server's `INFO {…}` greeting.
    async fn wait_ready(&mut self) -> io::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if greets(self.port).await {
                return Ok(());
            }
            if let Some(status) = self.daemon.as_mut().and_then(Daemon::exited) {
                return Err(io::Error::other(format!(
                    "nats-server exited ({status}):\n{}",
                    self.log()
                )));
            }
            if Instant::now() > deadline {
                return Err(io::Error::other(format!(
                    "nats-server not ready after {START_TIMEOUT:?}:\n{}",
                    self.log()
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn greets(port: u16) -> bool {
    let Ok(stream) = TcpStream::connect(("127.0.0.1", port)).await else {
        return false;
    };
    let mut line = String::new();
    let mut reader = BufReader::new(stream);
    let read = reader.read_line(&mut line);
    matches!(
        tokio::time::timeout(Duration::from_secs(2), read).await,
        Ok(Ok(_))
    ) && line.starts_with("INFO ")
}

/// `$HONGYAN_NATS_SERVER`, else `nats-server` on PATH.
pub fn nats_server_bin() -> std::path::PathBuf {
    std::env::var_os("HONGYAN_NATS_SERVER")
        .map(Into::into)
        .unwrap_or_else(|| "nats-server".into())
}
