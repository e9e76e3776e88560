//! A loopback TCP load balancer in front of a cluster's nodes, the way clients reach a
//! deployment: one address for HTTP + WebSocket and one for the TCP gateway. Each new
//! connection goes to the preferred node, or — when that node refuses (it is down) — to the
//! next one that accepts, in node order. When a node dies its connections through the
//! balancer break with it, and the clients' reconnects land on a live node: that is how an
//! SDK client (one server URL) fails over. Connections are counted per node, so tests can
//! see where clients went.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc,
    },
};

use tokio::{
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

/// One node behind the balancer: its HTTP and TCP gateway addresses.
#[derive(Debug, Clone, Copy)]
pub struct Upstream {
    pub http: SocketAddr,
    pub tcp: SocketAddr,
}

#[derive(Debug)]
struct Shared {
    backends: Vec<Upstream>,
    preferred: AtomicUsize,
    /// Connections forwarded to each backend so far.
    forwarded: Vec<AtomicU64>,
}

/// Which of a backend's two ports a listener forwards to.
#[derive(Debug, Clone, Copy)]
enum Port {
    Http,
    Tcp,
}

/// See the module docs. Stops listening on drop (connections already made stay up).
#[derive(Debug)]
pub struct Balancer {
    http: SocketAddr,
    tcp: SocketAddr,
    shared: Arc<Shared>,
    accepts: Vec<JoinHandle<()>>,
}

impl Balancer {
    /// Starts listening on two free loopback ports in front of `backends` (at least one);
    /// new connections prefer the first backend.
    pub async fn start(backends: Vec<Upstream>) -> std::io::Result<Self> {
        assert!(!backends.is_empty(), "a balancer needs a backend");
        let shared = Arc::new(Shared {
            forwarded: backends.iter().map(|_| AtomicU64::new(0)).collect(),
            backends,
            preferred: AtomicUsize::new(0),
        });
        let http = TcpListener::bind("127.0.0.1:0").await?;
        let tcp = TcpListener::bind("127.0.0.1:0").await?;
        let (http_addr, tcp_addr) = (http.local_addr()?, tcp.local_addr()?);
        let accepts = vec![
            tokio::spawn(accept_loop(http, Port::Http, shared.clone())),
            tokio::spawn(accept_loop(tcp, Port::Tcp, shared.clone())),
        ];
        Ok(Self {
            http: http_addr,
            tcp: tcp_addr,
            shared,
            accepts,
        })
    }

    /// `http://<balancer>`: the server URL clients are configured with.
    pub fn url(&self) -> String {
        format!("http://{}", self.http)
    }

    /// The TCP gateway address clients using the TCP transport are configured with.
    pub fn tcp_addr(&self) -> SocketAddr {
        self.tcp
    }

    /// New connections go to backend `i` while it accepts them.
    pub fn prefer(&self, i: usize) {
        assert!(i < self.shared.backends.len(), "no backend {i}");
        self.shared.preferred.store(i, Ordering::SeqCst);
    }

    /// How many connections (HTTP, WebSocket and TCP together) went to backend `i` so far.
    pub fn forwarded_to(&self, i: usize) -> u64 {
        self.shared.forwarded[i].load(Ordering::SeqCst)
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        for task in &self.accepts {
            task.abort();
        }
    }
}

async fn accept_loop(listener: TcpListener, port: Port, shared: Arc<Shared>) {
    while let Ok((client, _)) = listener.accept().await {
        let shared = shared.clone();
        tokio::spawn(async move {
            let Some(mut server) = connect_first(&shared, port).await else {
                // Every node is down: the client sees its connection close and retries.
                return;
            };
            let mut client = client;
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            // Ends when either side closes or breaks; dropping both closes the other side.
            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        });
    }
}

/// The preferred backend, else the next ones in order, until one accepts.
async fn connect_first(shared: &Shared, port: Port) -> Option<TcpStream> {
    let n = shared.backends.len();
    let first = shared.preferred.load(Ordering::SeqCst);
    for i in (0..n).map(|k| (first + k) % n) {
        let backend = shared.backends[i];
        let addr = match port {
            Port::Http => backend.http,
            Port::Tcp => backend.tcp,
        };
        if let Ok(stream) = TcpStream::connect(addr).await {
            shared.forwarded[i].fetch_add(1, Ordering::SeqCst);
            return Some(stream);
        }
    }
    None
}
