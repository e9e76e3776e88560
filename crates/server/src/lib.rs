//! The Hongyan server as a library: [`Server::bind`] then [`Server::run`].
//!
//! One process serves the HTTP API and the WebSocket gateway (`/websocket`) on one port,
//! the TCP gateway on another, and keeps its state in an embedded SQLite database.

pub mod accounts;
pub mod api;
pub mod bus;
pub mod cluster;
pub mod config;
pub mod gateway;
pub mod limits;
pub mod media;
pub mod metrics;
pub mod node;
pub mod relay;
pub mod releases;
pub mod router;
pub mod session;
pub mod stickers;
pub mod store;
pub mod version;

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use tokio::net::TcpListener;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

pub use config::{Cli, Config, LogFormat};
pub use store::Store;

/// The server's own core_level (`yyMMdd`), reported in login responses.
pub const SERVER_CORE_LEVEL: u32 = 261_125;

/// How long shutdown waits for connections to flush and close.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot open the store in {path}: {source}")]
    Store {
        path: std::path::PathBuf,
        source: store::StoreError,
    },
    #[error("cannot use the PostgreSQL database: {0}")]
    Postgres(store::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot load the sticker packs: {0}")]
    Stickers(#[from] stickers::StickerError),
    #[error("cannot use NATS: {0}")]
    Bus(#[from] bus::BusError),
    #[error("server I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// State shared by every handler and connection.
#[derive(Debug)]
pub struct AppState {
    pub config: Config,
    pub store: Store,
    pub sessions: session::SessionRegistry,
    /// Throttles typing signals per sender → recipient.
    pub typing: relay::TypingGate,
    /// Cancelled when the server shuts down; every connection holds a child token.
    pub shutdown: CancellationToken,
    /// Every long-connection task, so shutdown can wait for them.
    pub tasks: TaskTracker,
    /// Media uploads in progress and the media folder.
    pub uploads: media::Uploads,
    /// Sticker packs, served from memory.
    pub stickers: stickers::StickerPacks,
    /// Prometheus registry and handles (`/metrics`).
    pub metrics: metrics::Metrics,
    /// The cross-node bus when this node is one of many (`--nats`).
    pub bus: Option<bus::Bus>,
    /// Publishes deliveries for users on other nodes (set with `bus`).
    pub publisher: Option<node::Publisher>,
    /// Presence across nodes and notice signals on every node (empty without `bus`).
    pub cluster: cluster::Cluster,
    /// Rate limits (logins, messages, uploads).
    pub limits: limits::RateLimits,
}

/// The configured backend: PostgreSQL at `postgres` (connected and migrated) when given,
/// else the embedded SQLite in `data_dir` (created if missing).
pub async fn open_store(
    postgres: Option<&str>,
    data_dir: &std::path::Path,
) -> Result<Store, ServerError> {
    if let Some(url) = postgres {
        let backend = store::postgres::PostgresStore::connect(url)
            .await
            .map_err(ServerError::Postgres)?;
        return Ok(Store::new(backend));
    }
    let dir = data_dir.to_owned();
    tokio::task::spawn_blocking(move || Store::open(&dir))
        .await
        .map_err(|e| ServerError::Io(std::io::Error::other(e)))?
        .map_err(|source| ServerError::Store {
            path: data_dir.to_owned(),
            source,
        })
}

/// A bound, not yet running server.
#[derive(Debug)]
pub struct Server {
    state: Arc<AppState>,
    http: TcpListener,
    tcp: TcpListener,
    http_addr: SocketAddr,
    tcp_addr: SocketAddr,
}

impl Server {
    /// Opens the store (PostgreSQL with `--postgres`, else SQLite in the data dir, creating
    /// it) and binds both listeners.
    pub async fn bind(config: Config) -> Result<Self, ServerError> {
        let store = open_store(config.postgres.as_deref(), &config.data_dir).await?;
        let stickers_dir = config.stickers_dir.clone();
        let stickers = tokio::task::spawn_blocking(move || {
            stickers::StickerPacks::load(stickers_dir.as_deref())
        })
        .await
        .map_err(|e| ServerError::Io(std::io::Error::other(e)))??;
        let media_dir = media::MediaDir::at(config.media_dir.clone());
        let sweep = media_dir.clone();
        match tokio::task::spawn_blocking(move || {
            sweep.remove_stale_partials(std::time::SystemTime::now(), media::PARTIAL_MAX_AGE)
        })
        .await
        {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(removed = n, "removed stale partial uploads"),
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot sweep partial uploads"),
            Err(e) => tracing::warn!(error = %e, "partial upload sweep failed"),
        }
        let http = TcpListener::bind(config.http_addr)
            .await
            .map_err(|source| ServerError::Bind {
                addr: config.http_addr,
                source,
            })?;
        let tcp = TcpListener::bind(config.tcp_addr)
            .await
            .map_err(|source| ServerError::Bind {
                addr: config.tcp_addr,
                source,
            })?;
        let http_addr = http.local_addr()?;
        let tcp_addr = tcp.local_addr()?;
        // Handlers that build absolute URLs without a Host header use the bound address
        // (port 0 resolved).
        let mut config = config;
        config.http_addr = http_addr;
        let uploads = media::Uploads::new(media_dir, config.max_media_bytes);
        let limits = limits::RateLimits::new(&config.rate_limits, config.max_media_bytes);
        let metrics = metrics::Metrics::new();
        let shutdown = CancellationToken::new();
        // A node starts even while NATS is down: it is not ready until the bus connects, and
        // its users get other nodes' messages by sync meanwhile (docs/DEPLOY.md).
        let bus = match &config.nats {
            Some(url) => Some(bus::Bus::start(url, &config.node_name).await?),
            None => None,
        };
        let cluster = match &bus {
            Some(bus) => cluster::Cluster::join(bus).await?,
            None => cluster::Cluster::single(),
        };
        let publisher = bus.as_ref().map(|bus| {
            node::Publisher::start(
                bus.clone(),
                metrics.bus_publish_failures(),
                shutdown.clone(),
            )
        });
        let state = Arc::new(AppState {
            config,
            uploads,
            stickers,
            store,
            sessions: session::SessionRegistry::new(),
            typing: relay::TypingGate::default(),
            shutdown,
            tasks: TaskTracker::new(),
            metrics,
            bus,
            publisher,
            cluster,
            limits,
        });
        if let Some(bus) = &state.bus {
            tracing::info!(node = %state.config.node_name, "cross-node bus configured");
            node::watch_links(Arc::downgrade(&state), bus.clone(), state.shutdown.clone());
        }
        Ok(Self {
            state,
            http,
            tcp,
            http_addr,
            tcp_addr,
        })
    }

    /// Bound address of the HTTP API / WebSocket listener.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// Bound address of the TCP gateway.
    pub fn tcp_addr(&self) -> SocketAddr {
        self.tcp_addr
    }

    /// The line printed on stdout once listening.
    pub fn listening_line(&self) -> String {
        format!(
            "hongyan-server listening http={} tcp={}",
            self.http_addr, self.tcp_addr
        )
    }

    /// Shared state (for tests and embedding).
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Serves until `shutdown` resolves, then stops accepting, closes every connection,
    /// and lets the store commit what it has before returning.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let state = self.state;
        let app = api::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let token = state.shutdown.clone();
        let http_token = token.clone();
        let http = tokio::spawn(async move {
            axum::serve(self.http, app)
                .with_graceful_shutdown(async move { http_token.cancelled().await })
                .await
        });
        let tcp = tokio::spawn(gateway::tcp::accept_loop(state.clone(), self.tcp));
        cluster::start(&state);
        limits::spawn_sweeper(&state);
        tracing::info!(http = %self.http_addr, tcp = %self.tcp_addr, "listening");

        shutdown.await;
        tracing::info!("shutting down");
        token.cancel();
        state.tasks.close();
        let _ = tcp.await;
        if tokio::time::timeout(SHUTDOWN_GRACE, state.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("some connections did not close in time");
        }
        match tokio::time::timeout(SHUTDOWN_GRACE, http).await {
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "http server error"),
            Ok(Err(e)) => tracing::warn!(error = %e, "http server task failed"),
            Err(_) => tracing::warn!("http server did not stop in time"),
            Ok(Ok(Ok(()))) => {}
        }
        state.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}
