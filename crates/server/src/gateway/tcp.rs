//! TCP gateway: 4-byte big-endian length + JSON envelope per frame.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{future, SinkExt, StreamExt};
use hongyan_protocol::{FrameCodec, FrameError};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::{FramedRead, FramedWrite};

use super::connection::{serve, ConnMeta, Incoming};
use crate::AppState;

/// Initial read buffer; it grows up to one maximal frame when needed.
const READ_BUFFER: usize = 1024;

/// Accepts connections until shutdown.
pub async fn accept_loop(state: Arc<AppState>, listener: TcpListener) {
    loop {
        let accepted = tokio::select! {
            _ = state.shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let meta = ConnMeta {
                    transport: "tcp",
                    peer: Some(peer),
                    ..ConnMeta::default()
                };
                state.tasks.spawn(run(state.clone(), stream, meta));
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "tcp accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
    tracing::debug!("tcp gateway stopped accepting");
}

async fn run(state: Arc<AppState>, stream: TcpStream, meta: ConnMeta) {
    let (read, write) = stream.into_split();
    let sink = FramedWrite::new(write, FrameCodec::default())
        .with(|text: String| future::ready(Ok::<_, FrameError>(Bytes::from(text))));
    let incoming = FramedRead::with_capacity(read, FrameCodec::default(), READ_BUFFER).map(
        |frame| match frame {
            Ok(body) => Incoming::Body(body),
            Err(FrameError::TooLarge(len)) => Incoming::TooLarge { len, fatal: true },
            Err(FrameError::Io(_)) => Incoming::Closed,
        },
    );
    serve(state, incoming, sink, meta).await;
}
