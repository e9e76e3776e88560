//! The library API (`Server::bind` / `run`) in-process, with settings the CLI cannot reach.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hongyan_protocol::{Envelope, FrameCodec, PacketType};
use hongyan_server::{Config, Server};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

#[tokio::test]
async fn silent_connections_are_closed_after_the_read_timeout() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut config = Config::ephemeral(tmp.path());
    config.read_timeout = Duration::from_millis(400);
    let server = Server::bind(config).await.expect("bind");
    let tcp = server.tcp_addr();
    assert_ne!(tcp.port(), 0);
    assert_ne!(server.http_addr().port(), 0);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async move {
        let _ = stop_rx.await;
    }));

    let mut conn = Framed::new(
        TcpStream::connect(tcp).await.expect("connect"),
        FrameCodec::default(),
    );
    // Traffic keeps it open...
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        conn.send(&Envelope::keepalive("1")).await.expect("send");
        let body = conn.next().await.expect("frame").expect("ok");
        let env = Envelope::decode(&body).expect("env");
        assert_eq!(env.packet_type, PacketType::KeepaliveResp);
    }
    // ...silence closes it.
    let started = tokio::time::Instant::now();
    let end = tokio::time::timeout(Duration::from_secs(5), conn.next())
        .await
        .expect("closed in time");
    assert!(end.is_none() || end.is_some_and(|r| r.is_err()));
    assert!(started.elapsed() >= Duration::from_millis(300));

    let _ = stop_tx.send(());
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("stops in time")
        .expect("join")
        .expect("clean stop");
}
