//! A loopback TCP proxy that can break the connections passing through it: the fault a
//! client meets when Wi-Fi drops or a NAT forgets it. HTTP and the long connection both go
//! through it when a client's server URL points at it. It counts the bytes it carries each
//! way and can trip one connection after a number of upstream bytes (cut it, or stall it
//! like a link that stopped moving).

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::watch,
    task::JoinHandle,
};

/// What [`FaultProxy::trip_after`] does to the connection that passes the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trip {
    /// Reset the connection (both peers see it break).
    Cut,
    /// Stop forwarding what the client sends, keeping the connection open (a stalled
    /// link), until [`FaultProxy::cut_all`] or the server closes it.
    Stall,
}

/// The proxy's shared state.
#[derive(Default)]
struct Shared {
    blackhole: AtomicBool,
    /// Bytes forwarded client → server / server → client, all connections together.
    up: AtomicU64,
    down: AtomicU64,
    /// An armed trip: (upstream bytes per connection, action).
    trip: Mutex<Option<(u64, Trip)>>,
    tripped: watch::Sender<u64>,
}

/// A proxy from a local port to `target`.
pub struct FaultProxy {
    addr: SocketAddr,
    cut: watch::Sender<u64>,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl FaultProxy {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let (cut, cut_rx) = watch::channel(0u64);
        let shared = Arc::new(Shared::default());
        let state = shared.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (mut cut_rx, state) = (cut_rx.clone(), state.clone());
                cut_rx.borrow_and_update();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(target).await else {
                        return;
                    };
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let up = async {
                        let mut buf = vec![0u8; 16 * 1024];
                        let mut carried = 0u64;
                        loop {
                            let n = match cr.read(&mut buf).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            // A black hole swallows what the client sends: no ACK comes back.
                            if state.blackhole.load(Ordering::SeqCst) {
                                continue;
                            }
                            let (n, trip) = state.take_trip(carried, n);
                            if sw.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                            carried += n as u64;
                            state.up.fetch_add(n as u64, Ordering::SeqCst);
                            match trip {
                                None => {}
                                Some(Trip::Cut) => break,
                                Some(Trip::Stall) => std::future::pending::<()>().await,
                            }
                        }
                    };
                    let down = async {
                        let mut buf = vec![0u8; 16 * 1024];
                        loop {
                            let n = match sr.read(&mut buf).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            if cw.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                            state.down.fetch_add(n as u64, Ordering::SeqCst);
                        }
                    };
                    tokio::select! {
                        _ = up => {}
                        _ = down => {}
                        _ = cut_rx.changed() => {}
                    }
                    // Dropping both halves resets the connection for both peers.
                });
            }
        });
        Self {
            addr,
            cut,
            shared,
            accept,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<proxy>`: a server URL whose traffic goes through the proxy.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Breaks every connection open now. New connections still go through.
    pub fn cut_all(&self) {
        self.cut.send_modify(|n| *n += 1);
    }

    /// While on, bytes from clients are silently dropped (the link looks alive but is not).
    pub fn set_blackhole(&self, on: bool) {
        self.shared.blackhole.store(on, Ordering::SeqCst);
    }

    /// Bytes forwarded from clients to the server so far (all connections).
    pub fn bytes_up(&self) -> u64 {
        self.shared.up.load(Ordering::SeqCst)
    }

    /// Bytes forwarded from the server to clients so far (all connections).
    pub fn bytes_down(&self) -> u64 {
        self.shared.down.load(Ordering::SeqCst)
    }

    /// Arms a one-time trip: the first connection whose client has sent more than `bytes`
    /// gets exactly `bytes` through, then `action` happens to it.
    pub fn trip_after(&self, bytes: u64, action: Trip) {
        *self.shared.trip.lock().expect("trip lock") = Some((bytes, action));
    }

    /// How many trips have fired so far.
    pub fn trips(&self) -> u64 {
        *self.shared.tripped.borrow()
    }

    /// Waits until `n` trips in all have fired.
    pub async fn wait_trips(&self, n: u64) {
        let mut rx = self.shared.tripped.subscribe();
        rx.wait_for(|t| *t >= n).await.expect("proxy alive");
    }
}

impl Shared {
    /// For a connection that has carried `carried` bytes upstream and read `n` more: how
    /// many to forward, and the trip to apply after them (the trip is used up).
    fn take_trip(&self, carried: u64, n: usize) -> (usize, Option<Trip>) {
        let mut armed = self.trip.lock().expect("trip lock");
        match *armed {
            Some((at, action)) if carried + n as u64 > at => {
                *armed = None;
                self.tripped.send_modify(|t| *t += 1);
                let through = usize::try_from(at.saturating_sub(carried)).unwrap_or(n);
                (through.min(n), Some(action))
            }
            _ => (n, None),
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut_all();
    }
}
