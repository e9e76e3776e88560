//! A real PostgreSQL server on loopback for a test: `initdb` into a temp dir (trust auth, no
//! fsync: test data need not survive a power cut), `postgres` on a free 127.0.0.1 port with its
//! socket in the same temp dir, stopped (fast shutdown, then SIGKILL of its process group) on
//! drop. PostgreSQL refuses to run as root, so under root (CI) it runs as the `postgres` user
//! the Debian package creates (or `nobody`), owning the temp dir.

use std::{
    fs, io,
    os::unix::{fs::MetadataExt, process::CommandExt},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use tempfile::TempDir;
use tokio_postgres::NoTls;

use crate::daemon::{free_port, Daemon};

/// The superuser `initdb` creates (trust auth: no password).
pub const PG_USER: &str = "hongyan";
/// The database [`PgServer::url`] points at, created at start.
pub const PG_DB: &str = "hongyan";
/// How long PostgreSQL may take to accept connections after `postgres` starts.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a fast shutdown (SIGINT) may take before the group is SIGKILLed.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// A running PostgreSQL server; see the module docs.
#[derive(Debug)]
pub struct PgServer {
    daemon: Daemon,
    port: u16,
    dir: TempDir,
}

impl PgServer {
    /// Starts a fresh server with an empty database [`PG_DB`]; panics with the reason (and the
    /// server's log) when it cannot.
    pub async fn start() -> Self {
        Self::try_start()
            .await
            .unwrap_or_else(|e| panic!("starting PostgreSQL: {e}"))
    }

    /// Starts a fresh server with an empty database [`PG_DB`].
    pub async fn try_start() -> io::Result<Self> {
        let bindir = pg_bindir()?;
        let run_as = unprivileged_user()?;
        let dir = tempfile::Builder::new().prefix("hongyan-pg-").tempdir()?;
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))?;
        }
        let data = dir.path().join("data");
        initdb(&bindir, &data, run_as)?;

        let port = free_port()?;
        let log = fs::File::create(dir.path().join("postgres.log"))?;
        let mut cmd = Command::new(bindir.join("postgres"));
        cmd.arg("-D")
            .arg(&data)
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-k"])
            .arg(dir.path())
            // Throwaway data: durability off for speed.
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off", "-c", "max_connections=300"])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        if let Some((uid, gid)) = run_as {
            cmd.uid(uid).gid(gid);
        }
        let daemon = Daemon::spawn("postgres", cmd)?;
        let mut server = Self { daemon, port, dir };
        server.wait_ready().await?;
        server.create_database(PG_DB).await?;
        Ok(server)
    }

    /// `postgres://hongyan@127.0.0.1:<port>/hongyan`.
    pub fn url(&self) -> String {
        self.database_url(PG_DB)
    }

    /// The URL of database `name` on this server (see [`Self::create_database`]).
    pub fn database_url(&self, name: &str) -> String {
        format!("postgres://{PG_USER}@127.0.0.1:{}/{name}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The postmaster's pid (leader of the server's process group).
    pub fn pid(&self) -> u32 {
        self.daemon.pid()
    }

    /// The server's log (stdout and stderr of `postgres`).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
    }

    /// Creates an empty database `name` (an identifier: letters, digits, `_`); returns its URL.
    pub async fn create_database(&self, name: &str) -> io::Result<String> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(io::Error::other(format!("bad database name {name:?}")));
        }
        let client = self.connect("postgres").await.map_err(io::Error::other)?;
        client
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .map_err(|e| io::Error::other(format!("CREATE DATABASE {name}: {e}")))?;
        Ok(self.database_url(name))
    }

    /// Stops the server (fast shutdown: open sessions are ended).
    pub fn stop(&mut self) {
        self.daemon.stop("INT", STOP_GRACE);
    }

    /// A client connected to database [`PG_DB`] (e.g. to check what the nodes stored);
    /// panics when it cannot connect.
    pub async fn client(&self) -> tokio_postgres::Client {
        self.connect(PG_DB)
            .await
            .unwrap_or_else(|e| panic!("connecting to {}: {e}", self.url()))
    }

    async fn connect(&self, db: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
        let (client, connection) = tokio_postgres::connect(&self.database_url(db), NoTls).await?;
        tokio::spawn(connection);
        Ok(client)
    }

    async fn wait_ready(&mut self) -> io::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let err = match self.connect("postgres").await {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            if let Some(status) = self.daemon.exited() {
                return Err(io::Error::other(format!(
                    "postgres exited ({status}):\n{}",
                    self.log()
                )));
            }
            if Instant::now() > deadline {
                return Err(io::Error::other(format!(
                    "postgres not accepting connections after {START_TIMEOUT:?} ({err}):\n{}",
                    self.log()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.daemon.stop("INT", STOP_GRACE);
    }
}

fn initdb(bindir: &Path, data: &Path, run_as: Option<(u32, u32)>) -> io::Result<()> {
    let mut cmd = Command::new(bindir.join("initdb"));
    cmd.arg("-D")
        .arg(data)
        .args(["-U", PG_USER, "--auth=trust", "--no-sync", "-E", "UTF8"])
        .args(["--locale=C", "--no-instructions"])
        .current_dir(data.parent().unwrap_or(Path::new("/")))
        .stdin(Stdio::null());
    if let Some((uid, gid)) = run_as {
        cmd.uid(uid).gid(gid);
    }
    let out = cmd
        .output()
        .map_err(|e| io::Error::new(e.kind(), format!("running initdb: {e}")))?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "initdb failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(())
}

/// The directory holding `initdb` and `postgres`: `$HONGYAN_PG_BINDIR`, else `pg_config
/// --bindir`, else the newest `/usr/lib/postgresql/<version>/bin` (Debian keeps them off PATH).
pub fn pg_bindir() -> io::Result<PathBuf> {
    let has_initdb = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(dir) = std::env::var_os("HONGYAN_PG_BINDIR") {
        return Ok(PathBuf::from(dir));
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_initdb(&dir) {
            return Ok(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, dir)| has_initdb(dir))
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir).ok_or_else(|| {
        io::Error::other(
            "PostgreSQL not found (no pg_config, no /usr/lib/postgresql/*/bin): install the \
             Debian package `postgresql` (`bash scripts/setup.sh test` does), or set \
             HONGYAN_PG_BINDIR",
        )
    })
}

/// `Some((uid, gid))` of the user to run PostgreSQL as when we are root (it refuses to run as
/// root): `postgres` (the Debian package's), else `nobody`. `None` when we are not root.
fn unprivileged_user() -> io::Result<Option<(u32, u32)>> {
    // /proc/self belongs to the effective uid.
    if fs::metadata("/proc/self")?.uid() != 0 {
        return Ok(None);
    }
    let passwd = fs::read_to_string("/etc/passwd")?;
    let lookup = |name: &str| {
        passwd.lines().find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            match fields.as_slice() {
                [n, _, uid, gid, ..] if *n == name => Some((uid.parse().ok()?, gid.parse().ok()?)),
                _ => None,
            }
        })
    };
    lookup("postgres")
        .or_else(|| lookup("nobody"))
        .map(Some)
        .ok_or_else(|| {
            io::Error::other(
                "running as root and no `postgres` or `nobody` user to run PostgreSQL as",
            )
        })
}
