//! The long connection: one transport-neutral [`Connection`] that yields and accepts
//! [`Envelope`]s over WebSocket ([`ws`]) or length-prefixed TCP ([`tcp`]).
//!
//! `recv` is cancel-safe, so the engine can `select!` on it next to timers and commands.

pub mod tcp;
pub mod ws;

use hongyan_protocol::{ClientVersion, Envelope};
use reqwest::Url;

use crate::error::{Error, Result};

/// Where and how to connect.
#[derive(Debug, Clone)]
pub enum Endpoint {
    /// A `ws://` or `wss://` URL.
    WebSocket(Url),
    /// `host:port`.
    Tcp(String),
}

/// Something other than an envelope came in.
#[derive(Debug)]
pub enum RecvError {
    /// A frame that did not decode; the link is still usable.
    Malformed(String),
    /// The link is broken.
    Closed(Error),
}

/// An open long connection.
pub enum Connection {
    /// Boxed: with TLS support the WebSocket stream is much larger than a TCP one.
    Ws(Box<ws::WsConnection>),
    Tcp(tcp::TcpConnection),
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Ws(_) => "Connection::Ws",
            Self::Tcp(_) => "Connection::Tcp",
        })
    }
}

impl Connection {
    /// Opens a connection (the WebSocket upgrade carries the version headers and UA).
    pub async fn connect(endpoint: &Endpoint, version: &ClientVersion) -> Result<Self> {
        match endpoint {
            Endpoint::WebSocket(url) => Ok(Self::Ws(Box::new(
                ws::WsConnection::connect(url, version).await?,
            ))),
            Endpoint::Tcp(addr) => Ok(Self::Tcp(tcp::TcpConnection::connect(addr).await?)),
        }
    }

    /// Sends one envelope.
    pub async fn send(&mut self, env: &Envelope) -> Result<()> {
        match self {
            Self::Ws(c) => c.send(env).await,
            Self::Tcp(c) => c.send(env).await,
        }
    }

    /// The next envelope; `None` when the peer closed the connection. Cancel-safe.
    pub async fn recv(&mut self) -> Option<Result<Envelope, RecvError>> {
        match self {
            Self::Ws(c) => c.recv().await,
            Self::Tcp(c) => c.recv().await,
        }
    }

    /// Closes the connection politely (best effort).
    pub async fn close(&mut self) {
        match self {
            Self::Ws(c) => c.close().await,
            Self::Tcp(c) => c.close().await,
        }
    }
}

fn decode(body: &[u8]) -> Result<Envelope, RecvError> {
    // Frames from the server are bounded by the transport limits; sync-sized bodies never
    // ride the long connection, so the protocol limit applies.
    Envelope::decode(body).map_err(|e| RecvError::Malformed(e.to_string()))
}

fn net(e: impl std::fmt::Display) -> Error {
    Error::Network(e.to_string())
}
