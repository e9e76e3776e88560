//! TCP transport: 4-byte big-endian length + UTF-8 JSON envelope ([`FrameCodec`]).

use futures_util::{SinkExt, StreamExt};
use hongyan_protocol::{Envelope, FrameCodec};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use super::{decode, net, RecvError};
use crate::error::Result;

/// An open TCP connection.
pub struct TcpConnection {
    inner: Framed<TcpStream, FrameCodec>,
}

impl TcpConnection {
    pub async fn connect(addr: &str) -> Result<Self> {
        let stream = TcpStream::connect(addr).await.map_err(net)?;
        let _ = stream.set_nodelay(true);
        Ok(Self {
            inner: Framed::new(stream, FrameCodec::default()),
        })
    }

    pub async fn send(&mut self, env: &Envelope) -> Result<()> {
        self.inner.send(env).await.map_err(net)
    }

    pub async fn recv(&mut self) -> Option<Result<Envelope, RecvError>> {
        match self.inner.next().await? {
            Ok(body) => Some(decode(&body)),
            // A framing error leaves the stream position unknown: the link is unusable.
            Err(e) => Some(Err(RecvError::Closed(net(e)))),
        }
    }

    pub async fn close(&mut self) {
        let _ = SinkExt::<&Envelope>::close(&mut self.inner).await;
    }
}
