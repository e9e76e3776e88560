//! Raw long connections (WebSocket or TCP) speaking envelopes, for load generation.
//! Deliberately not the SDK: the load generator measures the server, not the client.

use anyhow::{bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use hongyan_protocol::{
    codes, version::ClientVersion, Envelope, FrameCodec, LoginExtra, LoginInfo, LoginResponse,
    PacketType, Platform, MAX_BODY,
};
use tokio::{net::TcpStream, sync::mpsc};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::codec::Framed;

/// Which gateway to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Transport {
    Ws,
    Tcp,
}

/// A logged-in connection: send envelopes on `tx`, receive on `rx`.
pub struct Conn {
    pub tx: mpsc::Sender<Envelope>,
    pub rx: mpsc::Receiver<Envelope>,
}

/// The version the load generator presents.
pub fn bench_version() -> ClientVersion {
    ClientVersion {
        platform: Platform::Linux,
        app_version: env!("CARGO_PKG_VERSION").into(),
        core_level: 261_125,
    }
}

/// Connects over `transport`, logs in as `user_id` with `token`, and returns the pumps.
pub async fn connect(
    transport: Transport,
    http: std::net::SocketAddr,
    tcp: std::net::SocketAddr,
    user_id: &str,
    token: &str,
) -> Result<Conn> {
    let (to_wire_tx, mut to_wire_rx) = mpsc::channel::<Envelope>(256);
    let (from_wire_tx, mut from_wire_rx) = mpsc::channel::<Envelope>(1024);
    match transport {
        Transport::Ws => {
            let url = format!("ws://{http}/websocket");
            let (ws, _) = tokio_tungstenite::connect_async(url.as_str())
                .await
                .context("websocket connect")?;
            let (mut sink, mut stream) = ws.split();
            tokio::spawn(async move {
                while let Some(env) = to_wire_rx.recv().await {
                    if sink.send(Message::text(env.encode())).await.is_err() {
                        break;
                    }
                }
            });
            tokio::spawn(async move {
                while let Some(Ok(msg)) = stream.next().await {
                    let body = match msg {
                        Message::Text(t) => t.as_bytes().to_vec(),
                        Message::Binary(b) => b.to_vec(),
                        Message::Close(_) => break,
                        _ => continue,
                    };
                    let Ok(env) = Envelope::decode_unbounded(&body) else {
                        continue;
                    };
                    if from_wire_tx.send(env).await.is_err() {
                        break;
                    }
                }
            });
        }
        Transport::Tcp => {
            let stream = TcpStream::connect(tcp).await.context("tcp connect")?;
            stream.set_nodelay(true)?;
            let (mut sink, mut stream) = Framed::new(stream, FrameCodec::new(4 * MAX_BODY)).split();
            tokio::spawn(async move {
                while let Some(env) = to_wire_rx.recv().await {
                    if sink.send(bytes::Bytes::from(env.encode())).await.is_err() {
                        break;
                    }
                }
            });
            tokio::spawn(async move {
                while let Some(Ok(body)) = stream.next().await {
                    let Ok(env) = Envelope::decode_unbounded(&body) else {
                        continue;
                    };
                    if from_wire_tx.send(env).await.is_err() {
                        break;
                    }
                }
            });
        }
    }

    let extra = serde_json::to_string(&LoginExtra::new(&bench_version(), "hongyan-load"))?;
    let login = Envelope::login(&LoginInfo {
        login_user_id: user_id.into(),
        login_token: token.into(),
        extra: Some(extra),
        first_login_time: hongyan_protocol::now_ms(),
    });
    to_wire_tx.send(login).await.context("connection closed")?;
    let resp = from_wire_rx
        .recv()
        .await
        .context("closed before login response")?;
    if resp.packet_type != PacketType::LoginResp {
        bail!("expected a login response, got {:?}", resp.packet_type);
    }
    let resp: LoginResponse = resp.payload()?;
    if resp.code != codes::LOGIN_OK {
        bail!("login refused with code {}", resp.code);
    }
    Ok(Conn {
        tx: to_wire_tx,
        rx: from_wire_rx,
    })
}
