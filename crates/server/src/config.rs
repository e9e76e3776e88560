//! Command-line / environment configuration.
//!
//! [`Cli`] is what the user types (every flag also reads an environment variable);
//! [`Config`] is the resolved, validated form the server runs with.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::limits::{Rate, RateConfig};

/// Client heartbeat intervals MobileIMSDK ships as presets, in seconds.
pub const HEARTBEAT_PRESETS: [u64; 7] = [3, 5, 10, 15, 30, 60, 120];

/// Grace the server adds on top of the client heartbeat interval before it gives up on a
/// silent connection (one lost heartbeat plus transit time).
pub const HEARTBEAT_GRACE_SECS: u64 = 5;

/// `--friends-only` when not given: strangers cannot message each other (PROTOCOL.md).
pub const FRIENDS_ONLY_DEFAULT: bool = true;

/// `--max-media-bytes` when not given: 32 MiB per uploaded image.
pub const MAX_MEDIA_BYTES_DEFAULT: u64 = 32 * 1024 * 1024;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The Hongyan server: HTTP API and WebSocket gateway on one port, TCP gateway on another,
/// embedded SQLite in a data directory.
///
/// Log verbosity comes from `RUST_LOG` (default `info`, e.g. `RUST_LOG=hongyan_server=debug`).
/// Once both listeners are bound, exactly one line is printed to stdout:
/// `hongyan-server listening http=<ip:port> tcp=<ip:port>`. Logs go to stderr.
#[derive(Debug, Clone, Parser)]
#[command(name = "hongyan-server", version, about)]
pub struct Cli {
    /// Without a command the server runs; `admin` runs an operator task and exits.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address for the HTTP API and the WebSocket gateway (path /websocket). Port 0 picks a
    /// free port; the bound address is printed on stdout.
    #[arg(long, env = "HONGYAN_HTTP_ADDR", default_value = "127.0.0.1:3000")]
    pub http_addr: SocketAddr,

    /// Address for the TCP gateway (4-byte big-endian length + JSON envelope). Port 0 picks a
    /// free port; the bound address is printed on stdout.
    #[arg(long, env = "HONGYAN_TCP_ADDR", default_value = "127.0.0.1:8901")]
    pub tcp_addr: SocketAddr,

    /// Directory for the SQLite database; created on first start.
    /// Default: <OS data dir>/hongyan-server (e.g. ~/.local/share/hongyan-server).
    #[arg(long, env = "HONGYAN_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// Client heartbeat interval preset in seconds (MobileIMSDK presets: 3, 5, 10, 15, 30,
    /// 60, 120). The server's read timeout is raised to at least preset + 5 s, so a client
    /// on this preset is never cut off between two heartbeats.
    #[arg(long, env = "HONGYAN_HEARTBEAT", default_value_t = 15,
          value_parser = parse_heartbeat)]
    pub heartbeat: u64,

    /// Close a long connection that sends nothing for this many seconds. The effective
    /// timeout is max(this, heartbeat preset + 5).
    #[arg(long, env = "HONGYAN_READ_TIMEOUT_SECS", default_value_t = 20,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub read_timeout_secs: u64,

    /// Lifetime of a login token in hours.
    #[arg(long, env = "HONGYAN_TOKEN_TTL_HOURS", default_value_t = 720,
          value_parser = clap::value_parser!(u64).range(1..=87_600))]
    pub token_ttl_hours: u64,

    /// Reject long-connection logins from clients whose core_level (yyMMdd of the client
    /// core's release) is below this, with code 1027 "please upgrade". 0 accepts everyone.
    #[arg(long, env = "HONGYAN_MIN_CORE_LEVEL", default_value_t = 0)]
    pub min_core_level: u32,

    /// Allow 1:1 chat only between friends (others get error 1101; a note to self always
    /// works) and group invitations only of friends. `--friends-only true|false`.
    #[arg(long, env = "HONGYAN_FRIENDS_ONLY", default_value_t = FRIENDS_ONLY_DEFAULT,
          action = clap::ArgAction::Set, value_name = "BOOL")]
    pub friends_only: bool,

    /// Largest image (in bytes) a user may upload to /api/v1/media; bigger uploads get 413
    /// `too_large`.
    #[arg(long, env = "HONGYAN_MAX_MEDIA_BYTES", default_value_t = MAX_MEDIA_BYTES_DEFAULT,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_media_bytes: u64,

    /// Directory of extra sticker packs, served beside the built-in `goose` pack: one folder
    /// per pack, `DIR/<pack>/pack.json` plus one `<id>.png` per sticker.
    #[arg(long, env = "HONGYAN_STICKERS_DIR", value_name = "DIR")]
    pub stickers_dir: Option<PathBuf>,

    /// Many nodes: keep all state in this PostgreSQL database instead of the embedded
    /// SQLite (e.g. `postgres://hongyan@db.internal/hongyan`). Every node of a deployment
    /// names the same database. See docs/DEPLOY.md.
    #[arg(
        long,
        env = "HONGYAN_POSTGRES",
        value_name = "URL",
        hide_env_values = true
    )]
    pub postgres: Option<String>,

    /// Many nodes: core NATS server for cross-node delivery (e.g. `nats://127.0.0.1:4222`).
    #[arg(long, env = "HONGYAN_NATS", value_name = "URL")]
    pub nats: Option<String>,

    /// This node's name in a deployment (logs, kicks and broadcasts carry it).
    /// Default: `<hostname>-<http port>`.
    #[arg(long, env = "HONGYAN_NODE_NAME", value_name = "NAME")]
    pub node_name: Option<String>,

    /// Directory for uploaded media. Default: `<data-dir>/media`. Nodes of one deployment
    /// must share it (a network or shared volume).
    #[arg(long, env = "HONGYAN_MEDIA_DIR", value_name = "DIR")]
    pub media_dir: Option<PathBuf>,

    /// Directory of published app releases, served to the app's updater at
    /// /api/v1/updates (docs/UPDATES.md). Default: `<data-dir>/releases`. Nodes of one
    /// deployment share it, like the media dir.
    #[arg(long, env = "HONGYAN_RELEASES_DIR", value_name = "DIR")]
    pub releases_dir: Option<PathBuf>,

    /// Log format on stderr.
    #[arg(long, env = "HONGYAN_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(flatten)]
    pub rates: RateArgs,
}

/// Rate limits (docs/RELIABILITY.md): each `RATE` is `COUNT/UNIT[:BURST]` with UNIT `s`,
/// `min` or `h`, or `off`. Over a limit, HTTP answers 429 with `Retry-After`; the long
/// connection answers error 1102 (with the message's fp: the client resends later).
#[derive(Debug, Clone, Args)]
pub struct RateArgs {
    /// Apply the rate limits below (`false` turns them all off, e.g. for load benchmarks).
    #[arg(long, env = "HONGYAN_RATE_LIMITS", default_value_t = true,
          action = clap::ArgAction::Set, value_name = "BOOL")]
    pub rate_limits: bool,

    /// HTTP logins and registrations per peer address.
    #[arg(long, env = "HONGYAN_RATE_LOGIN_IP", value_name = "RATE",
          default_value_t = RateConfig::defaults().login_per_ip)]
    pub rate_login_ip: Rate,

    /// HTTP login attempts per username.
    #[arg(long, env = "HONGYAN_RATE_LOGIN_USER", value_name = "RATE",
          default_value_t = RateConfig::defaults().login_per_user)]
    pub rate_login_user: Rate,

    /// Long-connection (WebSocket/TCP) logins per peer address.
    #[arg(long, env = "HONGYAN_RATE_CONN_LOGIN_IP", value_name = "RATE",
          default_value_t = RateConfig::defaults().conn_login_per_ip)]
    pub rate_conn_login_ip: Rate,

    /// Chat frames (type 2, typing included) per long connection.
    #[arg(long, env = "HONGYAN_RATE_MSG_CONN", value_name = "RATE",
          default_value_t = RateConfig::defaults().msg_per_conn)]
    pub rate_msg_conn: Rate,

    /// Chat frames per account, over all its connections to this node.
    #[arg(long, env = "HONGYAN_RATE_MSG_ACCOUNT", value_name = "RATE",
          default_value_t = RateConfig::defaults().msg_per_account)]
    pub rate_msg_account: Rate,

    /// Media uploads (PUT requests) per account.
    #[arg(long, env = "HONGYAN_RATE_UPLOAD", value_name = "RATE",
          default_value_t = RateConfig::defaults().upload_per_account)]
    pub rate_upload: Rate,

    /// Media upload volume per account, in MiB (the bucket always holds one largest upload).
    #[arg(long, env = "HONGYAN_RATE_UPLOAD_MIB", value_name = "RATE",
          default_value_t = RateConfig::defaults().upload_mib_per_account)]
    pub rate_upload_mib: Rate,
}

impl RateArgs {
    /// The limits in force: the flags, or none with `--rate-limits false`.
    pub fn config(&self) -> RateConfig {
        if !self.rate_limits {
            return RateConfig::off();
        }
        RateConfig {
            login_per_ip: self.rate_login_ip,
            login_per_user: self.rate_login_user,
            conn_login_per_ip: self.rate_conn_login_ip,
            msg_per_conn: self.rate_msg_conn,
            msg_per_account: self.rate_msg_account,
            upload_per_account: self.rate_upload,
            upload_mib_per_account: self.rate_upload_mib,
        }
    }
}

/// Commands besides running the server.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Operator tasks: `create-user` works on the data dir directly (safe while the server
    /// runs); the others call the admin API of a running server with an admin login.
    Admin(AdminArgs),
}

/// `hongyan-server admin …`
#[derive(Debug, Clone, Args)]
pub struct AdminArgs {
    /// Base URL of the running server (API commands).
    #[arg(
        long,
        env = "HONGYAN_ADMIN_SERVER",
        default_value = "http://127.0.0.1:3000"
    )]
    pub server: String,
    /// An administrator's username (API commands).
    #[arg(long, env = "HONGYAN_ADMIN_USERNAME")]
    pub username: Option<String>,
    /// That administrator's password (API commands).
    #[arg(long, env = "HONGYAN_ADMIN_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    #[command(subcommand)]
    pub action: AdminAction,
}

/// What `admin` does.
#[derive(Debug, Clone, Subcommand)]
pub enum AdminAction {
    /// Creates an account directly in the data dir (optionally an administrator).
    CreateUser {
        /// The server's data directory (default: the server's default).
        #[arg(long, env = "HONGYAN_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// The deployment's PostgreSQL database, when the server runs with `--postgres`.
        #[arg(long, env = "HONGYAN_POSTGRES")]
        postgres: Option<String>,
        #[arg(long)]
        username: String,
        #[arg(long)]
        password: String,
        #[arg(long)]
        nickname: Option<String>,
        /// Make the account an administrator.
        #[arg(long)]
        admin: bool,
    },
    /// Lists the live long-connection sessions.
    Sessions,
    /// Notices (broadcasts): create, publish, recall, list.
    Broadcast {
        #[command(subcommand)]
        action: BroadcastAction,
    },
    /// App releases for the updater: publish, list (works on the releases dir directly,
    /// no running server or login needed).
    Release {
        #[command(subcommand)]
        action: ReleaseAction,
    },
}

/// Where `admin release …` finds the releases dir: `--releases-dir`, else
/// `<data-dir>/releases` (the server's rule).
#[derive(Debug, Clone, Args)]
pub struct ReleasesDirArgs {
    /// The server's data directory (default: the server's default).
    #[arg(long, env = "HONGYAN_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The releases directory (default: `<data-dir>/releases`).
    #[arg(long, env = "HONGYAN_RELEASES_DIR")]
    pub releases_dir: Option<PathBuf>,
}

impl ReleasesDirArgs {
    pub fn resolve(self) -> Result<PathBuf, String> {
        resolve_releases_dir(self.releases_dir, self.data_dir)
    }
}

/// `admin release …`
#[derive(Debug, Clone, Subcommand)]
pub enum ReleaseAction {
    /// Copies a signed bundle into the releases dir; prints its release.json.
    Publish {
        /// The bundle (e.g. Hongyan_0.2.0_amd64.deb).
        #[arg(long, value_name = "FILE")]
        bundle: PathBuf,
        /// Its signature (`<bundle>.sig` as `tauri build` / `tauri signer sign` write it).
        #[arg(long, value_name = "FILE")]
        signature: PathBuf,
        /// The release's semver version; the signature must be made for it.
        #[arg(long)]
        version: String,
        /// Updater target, e.g. linux-x86_64-deb (default: from the bundle's file name).
        #[arg(long)]
        target: Option<String>,
        /// Release notes shown by the app.
        #[arg(long)]
        notes: Option<String>,
        /// Refuse the bundle unless its signature verifies with this public key
        /// (the updater.key.pub file).
        #[arg(long, value_name = "FILE")]
        pubkey: Option<PathBuf>,
        #[command(flatten)]
        dir: ReleasesDirArgs,
    },
    /// Lists every published release.
    List {
        #[command(flatten)]
        dir: ReleasesDirArgs,
    },
}

/// `admin broadcast …`
#[derive(Debug, Clone, Subcommand)]
pub enum BroadcastAction {
    /// Creates a notice for everyone, or (with --audience) a whitelist pre-release.
    Create {
        #[arg(long)]
        title: String,
        #[arg(long)]
        body: String,
        /// Comma-separated user ids that may see it before it is published to all.
        #[arg(long, value_delimiter = ',')]
        audience: Option<Vec<String>>,
    },
    /// Makes a notice visible to everyone.
    Publish { id: i64 },
    /// Recalls a notice everywhere.
    Recall { id: i64 },
    /// Lists every notice with its audience.
    List,
}

/// The data dir to use: the flag, else `<OS data dir>/hongyan-server`.
pub fn resolve_data_dir(flag: Option<PathBuf>) -> Result<PathBuf, String> {
    match flag {
        Some(d) => Ok(d),
        None => Ok(dirs::data_dir()
            .ok_or("no OS data directory is known here; pass --data-dir")?
            .join("hongyan-server")),
    }
}

/// The releases dir to use: the flag, else `<data dir>/releases` (the data dir resolved
/// like [`resolve_data_dir`]).
pub fn resolve_releases_dir(
    releases_dir: Option<PathBuf>,
    data_dir: Option<PathBuf>,
) -> Result<PathBuf, String> {
    match releases_dir {
        Some(d) => Ok(d),
        None => Ok(resolve_data_dir(data_dir)?.join("releases")),
    }
}

fn parse_heartbeat(s: &str) -> Result<u64, String> {
    let v: u64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if HEARTBEAT_PRESETS.contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "heartbeat must be one of {HEARTBEAT_PRESETS:?} seconds"
        ))
    }
}

/// Resolved server configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; once bound, the bound address (port 0 resolved).
    pub http_addr: SocketAddr,
    pub tcp_addr: SocketAddr,
    pub data_dir: PathBuf,
    /// The client heartbeat preset, seconds.
    pub heartbeat_secs: u64,
    /// Effective read timeout of a long connection.
    pub read_timeout: Duration,
    pub token_ttl: Duration,
    pub min_core_level: u32,
    /// Chat and invitations between friends only.
    pub friends_only: bool,
    /// Largest accepted media upload, bytes.
    pub max_media_bytes: u64,
    /// Operator sticker packs (besides the built-in ones).
    pub stickers_dir: Option<PathBuf>,
    /// PostgreSQL URL (many nodes); `None` = embedded SQLite in `data_dir`.
    pub postgres: Option<String>,
    /// NATS URL for cross-node delivery; `None` = a single node.
    pub nats: Option<String>,
    /// This node's name.
    pub node_name: String,
    /// Where uploaded media lives (`<data_dir>/media` unless given).
    pub media_dir: PathBuf,
    /// Where published app releases live (`<data_dir>/releases` unless given).
    pub releases_dir: PathBuf,
    /// Rate limits (docs/RELIABILITY.md).
    pub rate_limits: RateConfig,
}

impl Config {
    /// A config for tests and embedding: loopback, port 0 for both listeners.
    pub fn ephemeral(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir: PathBuf = data_dir.into();
        Self {
            http_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            tcp_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.clone(),
            heartbeat_secs: 15,
            read_timeout: Duration::from_secs(20),
            token_ttl: Duration::from_secs(720 * 3600),
            min_core_level: 0,
            friends_only: false,
            max_media_bytes: MAX_MEDIA_BYTES_DEFAULT,
            stickers_dir: None,
            postgres: None,
            nats: None,
            node_name: "test".to_owned(),
            media_dir: data_dir.join("media"),
            releases_dir: data_dir.join("releases"),
            rate_limits: RateConfig::defaults(),
        }
    }
}

/// `<hostname>-<port>`: unique per node on one machine and readable in logs.
fn default_node_name(http_addr: SocketAddr) -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".to_owned());
    format!("{host}-{}", http_addr.port())
}

/// The read timeout for a heartbeat preset and a requested timeout:
/// `max(requested, preset + HEARTBEAT_GRACE_SECS)`.
pub fn effective_read_timeout(heartbeat_secs: u64, requested_secs: u64) -> Duration {
    Duration::from_secs(requested_secs.max(heartbeat_secs + HEARTBEAT_GRACE_SECS))
}

impl Cli {
    /// Resolves defaults (the OS data dir) into a [`Config`].
    pub fn into_config(self) -> Result<Config, String> {
        let data_dir = resolve_data_dir(self.data_dir)?;
        let media_dir = self.media_dir.unwrap_or_else(|| data_dir.join("media"));
        let releases_dir = self
            .releases_dir
            .unwrap_or_else(|| data_dir.join("releases"));
        let node_name = self
            .node_name
            .unwrap_or_else(|| default_node_name(self.http_addr));
        Ok(Config {
            http_addr: self.http_addr,
            tcp_addr: self.tcp_addr,
            data_dir,
            heartbeat_secs: self.heartbeat,
            read_timeout: effective_read_timeout(self.heartbeat, self.read_timeout_secs),
            token_ttl: Duration::from_secs(self.token_ttl_hours * 3600),
            min_core_level: self.min_core_level,
            friends_only: self.friends_only,
            max_media_bytes: self.max_media_bytes,
            stickers_dir: self.stickers_dir,
            postgres: self.postgres,
            nats: self.nats,
            node_name,
            media_dir,
            releases_dir,
            rate_limits: self.rates.config(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("hongyan-server").chain(args.iter().copied()))
    }

    #[test]
    fn defaults() {
        let cli = parse(&["--data-dir", "/tmp/x"]).expect("parses");
        assert_eq!(cli.http_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(cli.tcp_addr.to_string(), "127.0.0.1:8901");
        let cfg = cli.into_config().expect("config");
        assert_eq!(cfg.read_timeout, Duration::from_secs(20));
        assert_eq!(cfg.token_ttl, Duration::from_secs(720 * 3600));
        assert_eq!(cfg.min_core_level, 0);
        assert_eq!(cfg.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn deployment_flags() {
        let cfg = parse(&["--data-dir", "/tmp/x", "--http-addr", "127.0.0.1:3100"])
            .expect("parses")
            .into_config()
            .expect("config");
        assert_eq!((cfg.postgres, cfg.nats), (None, None));
        assert_eq!(cfg.media_dir, PathBuf::from("/tmp/x/media"));
        assert!(cfg.node_name.ends_with("-3100"), "{}", cfg.node_name);
        let cfg = parse(&[
            "--data-dir",
            "/tmp/x",
            "--postgres",
            "postgres://h@127.0.0.1/h",
            "--nats",
            "nats://127.0.0.1:4222",
            "--node-name",
            "a",
            "--media-dir",
            "/shared/media",
        ])
        .expect("parses")
        .into_config()
        .expect("config");
        assert_eq!(cfg.postgres.as_deref(), Some("postgres://h@127.0.0.1/h"));
        assert_eq!(cfg.nats.as_deref(), Some("nats://127.0.0.1:4222"));
        assert_eq!(cfg.node_name, "a");
        assert_eq!(cfg.media_dir, PathBuf::from("/shared/media"));
    }

    #[test]
    fn heartbeat_presets_only() {
        assert!(parse(&["--heartbeat", "7"]).is_err());
        assert!(parse(&["--heartbeat", "abc"]).is_err());
        for p in HEARTBEAT_PRESETS {
            assert_eq!(
                parse(&["--heartbeat", &p.to_string()])
                    .expect("ok")
                    .heartbeat,
                p
            );
        }
    }

    #[test]
    fn read_timeout_is_at_least_preset_plus_grace() {
        assert_eq!(effective_read_timeout(15, 20), Duration::from_secs(20));
        assert_eq!(effective_read_timeout(60, 20), Duration::from_secs(65));
        assert_eq!(effective_read_timeout(3, 30), Duration::from_secs(30));
        let cfg = parse(&[
            "--data-dir",
            "d",
            "--heartbeat",
            "120",
            "--read-timeout-secs",
            "10",
        ])
        .expect("ok")
        .into_config()
        .expect("config");
        assert_eq!(cfg.read_timeout, Duration::from_secs(125));
    }

    #[test]
    fn port_zero_and_other_flags() {
        let cli = parse(&[
            "--http-addr",
            "127.0.0.1:0",
            "--tcp-addr",
            "0.0.0.0:0",
            "--min-core-level",
            "261124",
            "--log-format",
            "json",
            "--token-ttl-hours",
            "1",
        ])
        .expect("ok");
        assert_eq!(cli.http_addr.port(), 0);
        assert_eq!(cli.min_core_level, 261_124);
        assert_eq!(cli.log_format, LogFormat::Json);
        assert!(parse(&["--http-addr", "nope"]).is_err());
        assert!(parse(&["--token-ttl-hours", "0"]).is_err());
    }

    #[test]
    fn admin_commands_parse_beside_the_server_flags() {
        assert!(parse(&[]).expect("ok").command.is_none());
        let cli = parse(&[
            "admin",
            "create-user",
            "--data-dir",
            "d",
            "--username",
            "root",
            "--password",
            "password1",
            "--admin",
        ])
        .expect("ok");
        match cli.command {
            Some(Command::Admin(AdminArgs {
                action:
                    AdminAction::CreateUser {
                        username, admin, ..
                    },
                ..
            })) => assert!(username == "root" && admin),
            other => panic!("{other:?}"),
        }
        let cli = parse(&[
            "admin",
            "--server",
            "http://h:1",
            "--username",
            "root",
            "--password",
            "p",
            "broadcast",
            "create",
            "--title",
            "t",
            "--body",
            "b",
            "--audience",
            "1,2",
        ])
        .expect("ok");
        let Some(Command::Admin(args)) = cli.command else {
            panic!("admin")
        };
        assert_eq!(args.username.as_deref(), Some("root"));
        match args.action {
            AdminAction::Broadcast {
                action: BroadcastAction::Create { audience, .. },
            } => assert_eq!(audience, Some(vec!["1".into(), "2".into()])),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn media_flags() {
        let cfg = parse(&["--data-dir", "d"])
            .expect("ok")
            .into_config()
            .expect("config");
        assert_eq!(cfg.max_media_bytes, 32 * 1024 * 1024);
        assert_eq!(cfg.stickers_dir, None);
        let cfg = parse(&["--max-media-bytes", "1000", "--stickers-dir", "packs"])
            .expect("ok")
            .into_config()
            .expect("config");
        assert_eq!(cfg.max_media_bytes, 1000);
        assert_eq!(cfg.stickers_dir, Some(PathBuf::from("packs")));
        assert!(parse(&["--max-media-bytes", "0"]).is_err());
        assert!(parse(&["--max-media-bytes", "lots"]).is_err());
    }

    #[test]
    fn releases_flags() {
        let cfg = parse(&["--data-dir", "/tmp/x"])
            .expect("ok")
            .into_config()
            .expect("config");
        assert_eq!(cfg.releases_dir, PathBuf::from("/tmp/x/releases"));
        let cfg = parse(&["--data-dir", "/tmp/x", "--releases-dir", "/shared/releases"])
            .expect("ok")
            .into_config()
            .expect("config");
        assert_eq!(cfg.releases_dir, PathBuf::from("/shared/releases"));
        assert_eq!(cfg.media_dir, PathBuf::from("/tmp/x/media"), "independent");

        let cli = parse(&[
            "admin",
            "release",
            "publish",
            "--bundle",
            "Hongyan_0.2.0_amd64.deb",
            "--signature",
            "Hongyan_0.2.0_amd64.deb.sig",
            "--version",
            "0.2.0",
            "--notes",
            "What changed",
            "--data-dir",
            "/tmp/d",
        ])
        .expect("ok");
        let Some(Command::Admin(AdminArgs {
            action:
                AdminAction::Release {
                    action:
                        ReleaseAction::Publish {
                            version,
                            target,
                            notes,
                            pubkey,
                            dir,
                            ..
                        },
                },
            ..
        })) = cli.command
        else {
            panic!("admin release publish")
        };
        assert_eq!(version, "0.2.0");
        assert_eq!((target, pubkey), (None, None));
        assert_eq!(notes.as_deref(), Some("What changed"));
        assert_eq!(dir.resolve(), Ok(PathBuf::from("/tmp/d/releases")));
        let cli = parse(&["admin", "release", "list", "--releases-dir", "/r"]).expect("ok");
        let Some(Command::Admin(AdminArgs {
            action:
                AdminAction::Release {
                    action: ReleaseAction::List { dir },
                },
            ..
        })) = cli.command
        else {
            panic!("admin release list")
        };
        assert_eq!(dir.resolve(), Ok(PathBuf::from("/r")));
        assert!(
            parse(&["admin", "release", "publish", "--bundle", "b"]).is_err(),
            "signature and version are required"
        );
    }

    #[test]
    fn rate_limit_flags() {
        let cfg = parse(&[]).expect("ok").into_config().expect("config");
        assert_eq!(cfg.rate_limits, RateConfig::defaults());
        let cfg = parse(&[
            "--rate-msg-conn",
            "100/s:200",
            "--rate-login-user",
            "off",
            "--rate-upload-mib",
            "64/min",
        ])
        .expect("ok")
        .into_config()
        .expect("config");
        assert_eq!(
            cfg.rate_limits.msg_per_conn,
            Rate::every(100, Duration::from_secs(1), 200)
        );
        assert_eq!(cfg.rate_limits.login_per_user, Rate::Off);
        assert_eq!(
            cfg.rate_limits.upload_mib_per_account,
            Rate::every(64, Duration::from_secs(60), 64)
        );
        assert_eq!(
            cfg.rate_limits.login_per_ip,
            RateConfig::defaults().login_per_ip
        );
        let off = parse(&["--rate-limits", "false", "--rate-msg-conn", "1/s"])
            .expect("ok")
            .into_config()
            .expect("config");
        assert_eq!(off.rate_limits, RateConfig::off());
        assert!(parse(&["--rate-msg-conn", "fast"]).is_err());
        assert!(parse(&["--rate-limits", "maybe"]).is_err());
    }

    #[test]
    fn friends_only_takes_a_bool() {
        assert_eq!(parse(&[]).expect("ok").friends_only, FRIENDS_ONLY_DEFAULT);
        assert!(parse(&["--friends-only", "true"]).expect("ok").friends_only);
        assert!(
            !parse(&["--friends-only", "false"])
                .expect("ok")
                .friends_only
        );
        assert!(parse(&["--friends-only", "maybe"]).is_err());
    }
}
