//! WebSocket gateway at `/websocket`: one text (or binary) message = one envelope.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    extract::{
        ws::{Message, WebSocket, WebSocketUpgrade},
        ConnectInfo, State,
    },
    http::{header::USER_AGENT, HeaderMap},
    response::Response,
};
use bytes::Bytes;
use futures_util::{future, SinkExt, StreamExt};

use super::connection::{serve, ConnMeta, Incoming};
use crate::{version::ClientInfo, AppState};

/// Largest WebSocket message read at all. Bodies between [`hongyan_protocol::MAX_BODY`] and
/// this get error 1103 and the connection stays open; larger ones end the connection.
pub const MAX_WS_MESSAGE: usize = 64 * 1024;

const READ_BUFFER: usize = 4 * 1024;
const WRITE_BUFFER: usize = 8 * 1024;

/// `GET /websocket`: upgrades and serves the connection.
pub async fn upgrade(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ClientInfo(version): ClientInfo,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let user_agent = headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let meta = ConnMeta {
        transport: "ws",
        peer: Some(peer),
        header_version: version,
        user_agent,
    };
    let tracker = state.tasks.clone();
    ws.max_message_size(MAX_WS_MESSAGE)
        .max_frame_size(MAX_WS_MESSAGE)
        // Small buffers keep idle connections cheap (tungstenite defaults to 128 KiB).
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .on_upgrade(move |socket| tracker.track_future(run(state, socket, meta)))
}

async fn run(state: Arc<AppState>, socket: WebSocket, meta: ConnMeta) {
    let (sink, stream) = socket.split();
    let sink =
        sink.with(|text: String| future::ready(Ok::<_, axum::Error>(Message::Text(text.into()))));
    let incoming = stream.map(|msg| match msg {
        Ok(Message::Text(text)) => Incoming::Body(Bytes::copy_from_slice(text.as_str().as_bytes())),
        Ok(Message::Binary(bytes)) => Incoming::Body(bytes),
        Ok(Message::Ping(_) | Message::Pong(_)) => Incoming::Activity,
        Ok(Message::Close(_)) | Err(_) => Incoming::Closed,
    });
    serve(state, incoming, sink, meta).await;
}
