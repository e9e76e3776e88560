//! A loopback TCP proxy that can break the connections passing through it: the fault a
//! client meets when Wi-Fi drops or a NAT forgets it. HTTP and the long connection both go
//! through it when a client's server URL points at it.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::watch,
    task::JoinHandle,
};

/// A proxy from a local port to `target`.
pub struct FaultProxy {
    addr: SocketAddr,
    cut: watch::Sender<u64>,
    blackhole: Arc<AtomicBool>,
    accept: JoinHandle<()>,
}

impl FaultProxy {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let (cut, cut_rx) = watch::channel(0u64);
        let blackhole = Arc::new(AtomicBool::new(false));
        let hole = blackhole.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (mut cut_rx, hole) = (cut_rx.clone(), hole.clone());
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
                        loop {
                            let n = match cr.read(&mut buf).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            // A black hole swallows what the client sends: no ACK comes back.
                            if !hole.load(Ordering::SeqCst)
                                && sw.write_all(&buf[..n]).await.is_err()
                            {
                                break;
                            }
                        }
                    };
                    let down = async {
                        let _ = tokio::io::copy(&mut sr, &mut cw).await;
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
            blackhole,
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
        self.blackhole.store(on, Ordering::SeqCst);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut_all();
    }
}
