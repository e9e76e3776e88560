//! WebSocket transport: one text frame = one envelope.

use futures_util::{SinkExt, StreamExt};
use hongyan_protocol::{ClientVersion, Envelope};
use reqwest::Url;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header::USER_AGENT, HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{decode, net, RecvError};
use crate::error::{Error, Result};

/// An open WebSocket connection.
pub struct WsConnection {
    inner: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// The upgrade request: the URL plus the version headers and User-Agent.
pub fn upgrade_request(
    url: &Url,
    version: &ClientVersion,
) -> Result<tokio_tungstenite::tungstenite::handshake::client::Request> {
    let mut req = url
        .as_str()
        .into_client_request()
        .map_err(|e| Error::Config(format!("WebSocket URL: {e}")))?;
    let headers = req.headers_mut();
    for (name, value) in crate::version::headers(version) {
        let value = HeaderValue::from_str(&value)
            .map_err(|_| Error::Config(format!("invalid {name} header value")))?;
        headers.insert(HeaderName::from_static(name), value);
    }
    let ua = HeaderValue::from_str(&crate::version::user_agent(version))
        .map_err(|_| Error::Config("invalid User-Agent".into()))?;
    headers.insert(USER_AGENT, ua);
    Ok(req)
}

impl WsConnection {
    pub async fn connect(url: &Url, version: &ClientVersion) -> Result<Self> {
        let req = upgrade_request(url, version)?;
        let (inner, _resp) = tokio_tungstenite::connect_async(req).await.map_err(net)?;
        Ok(Self { inner })
    }

    pub async fn send(&mut self, env: &Envelope) -> Result<()> {
        self.inner
            .send(WsMessage::text(env.encode()))
            .await
            .map_err(net)
    }

    pub async fn recv(&mut self) -> Option<Result<Envelope, RecvError>> {
        loop {
            let msg = match self.inner.next().await? {
                Ok(m) => m,
                Err(e) => return Some(Err(RecvError::Closed(net(e)))),
            };
            return match msg {
                WsMessage::Text(t) => Some(decode(t.as_bytes())),
                WsMessage::Binary(b) => Some(decode(&b)),
                WsMessage::Close(_) => None,
                // Pings are answered by tungstenite on the next write/flush.
                WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_) => continue,
            };
        }
    }

    pub async fn close(&mut self) {
        let _ = self.inner.close(None).await;
    }
}
