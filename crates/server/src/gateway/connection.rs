//! The per-connection state machine, the same for WebSocket and TCP.
//!
//! A transport adapter turns its socket into a stream of [`Incoming`] events and a sink of
//! encoded envelopes, then calls [`serve`]. `serve` runs the reader loop in the calling
//! task and a writer task fed by an mpsc queue of [`Outbound`] items; other connections
//! (forwarding, kickout) reach this one only through that queue.

use std::{fmt::Display, net::SocketAddr, sync::Arc, time::Duration};

use bytes::Bytes;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use hongyan_protocol::{
    codes, ClientVersion, Envelope, ErrorResponse, LoginInfo, LoginResponse, PacketType, SERVER_ID,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::{
    accounts,
    limits::ConnMessages,
    node, relay,
    router::route_chat,
    session::{next_conn_id, Outbound, PushProgress, Replaced, SessionHandle},
    AppState, SERVER_CORE_LEVEL,
};

/// Outbound frames a connection may have queued before it counts as too slow.
pub const OUTBOUND_QUEUE: usize = 256;
/// How long a closing connection gets to flush what is queued.
const FLUSH_GRACE: Duration = Duration::from_secs(3);
/// A peer that accepts no bytes for this long is cut off.
const WRITE_STALL: Duration = Duration::from_secs(10);

/// What a transport adapter reports.
#[derive(Debug)]
pub enum Incoming {
    /// One frame body (a JSON envelope, unless malformed).
    Body(Bytes),
    /// A frame longer than the transport accepts. `fatal`: framing is lost, close after
    /// answering (TCP).
    TooLarge { len: usize, fatal: bool },
    /// Traffic that is not an envelope (WebSocket ping/pong): keeps the connection alive.
    Activity,
    /// The peer closed or the transport failed.
    Closed,
}

/// Facts about a connection known before any frame arrives.
#[derive(Debug, Clone, Default)]
pub struct ConnMeta {
    pub transport: &'static str,
    pub peer: Option<SocketAddr>,
    /// From the WebSocket upgrade's `platform`/`app_version`/`core_level` headers.
    pub header_version: Option<ClientVersion>,
    /// The WebSocket upgrade's User-Agent.
    pub user_agent: Option<String>,
}

/// The longest a rate-limited connection goes unread (its heartbeats wait as long).
const MAX_LIMITED_PAUSE: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    /// Over a rate limit: read nothing more until the bucket has refilled, so a flood
    /// costs the server what the limit allows, not what the client sends (TCP holds the rest).
    Pause(Duration),
    Close,
}

struct LoggedIn {
    user_id: i64,
    /// Stops this session's bus subscription task (with a bus).
    follow: Option<CancellationToken>,
}

impl LoggedIn {
    fn stop_following(&self) {
        if let Some(follow) = &self.follow {
            follow.cancel();
        }
    }
}

struct Connection {
    state: Arc<AppState>,
    conn_id: u64,
    meta: ConnMeta,
    tx: mpsc::Sender<Outbound>,
    cancel: CancellationToken,
    session: Option<LoggedIn>,
    /// This connection's chat-frame bucket (rate limits).
    messages: ConnMessages,
}

/// Serves one long connection until it closes.
pub async fn serve<St, Si>(state: Arc<AppState>, mut incoming: St, sink: Si, meta: ConnMeta)
where
    St: Stream<Item = Incoming> + Unpin + Send,
    Si: Sink<String> + Unpin + Send + 'static,
    Si::Error: Display,
{
    let conn_id = next_conn_id();
    let cancel = state.shutdown.child_token();
    let (tx, rx) = mpsc::channel(OUTBOUND_QUEUE);
    let writer = tokio::spawn(write_loop(sink, rx, cancel.clone(), conn_id));
    let read_timeout = state.config.read_timeout;
    tracing::debug!(conn = conn_id, transport = meta.transport, peer = ?meta.peer, "connection opened");
    let messages = state.limits.conn_messages();
    let mut conn = Connection {
        state,
        conn_id,
        meta,
        tx,
        cancel: cancel.clone(),
        session: None,
        messages,
    };
    loop {
        let next = tokio::select! {
            biased;
            _ = cancel.cancelled() => break,
            next = tokio::time::timeout(read_timeout, incoming.next()) => next,
        };
        let flow = match next {
            Err(_) => {
                tracing::debug!(conn = conn_id, "read timeout; closing");
                Flow::Close
            }
            Ok(None | Some(Incoming::Closed)) => break,
            Ok(Some(Incoming::Activity)) => Flow::Continue,
            Ok(Some(Incoming::TooLarge { len, fatal })) => {
                let msg = format!(
                    "frame body of {len} bytes exceeds the {}-byte limit",
                    hongyan_protocol::MAX_BODY
                );
                conn.send_error(codes::ERR_FRAME_TOO_LARGE, &msg, None)
                    .await;
                if fatal {
                    Flow::Close
                } else {
                    Flow::Continue
                }
            }
            Ok(Some(Incoming::Body(body))) => conn.on_frame(&body).await,
        };
        match flow {
            Flow::Continue => {}
            Flow::Close => break,
            Flow::Pause(wait) => {
                tokio::select! {
                    biased;
                    _ = cancel.cancelled() => break,
                    _ = tokio::time::sleep(wait.min(MAX_LIMITED_PAUSE)) => {}
                }
            }
        }
    }
    conn.finish(writer).await;
}

async fn write_loop<Si>(
    mut sink: Si,
    mut rx: mpsc::Receiver<Outbound>,
    cancel: CancellationToken,
    conn_id: u64,
) where
    Si: Sink<String> + Unpin,
    Si::Error: Display,
{
    'outer: loop {
        let first = tokio::select! {
            biased;
            item = rx.recv() => item,
            _ = cancel.cancelled() => break,
        };
        let Some(Outbound::Frame(frame)) = first else {
            break;
        };
        if !bounded(conn_id, sink.feed(frame)).await {
            break;
        }
        // Batch whatever else is already queued into one flush.
        let mut closing = false;
        while let Ok(item) = rx.try_recv() {
            match item {
                Outbound::Frame(frame) => {
                    if !bounded(conn_id, sink.feed(frame)).await {
                        break 'outer;
                    }
                }
                Outbound::Close => {
                    closing = true;
                    break;
                }
            }
        }
        if !bounded(conn_id, sink.flush()).await || closing {
            break;
        }
    }
    let _ = tokio::time::timeout(FLUSH_GRACE, sink.close()).await;
    cancel.cancel();
}

/// Runs one sink operation; `false` if it failed or the peer stopped reading for
/// [`WRITE_STALL`].
async fn bounded<E: Display>(
    conn_id: u64,
    op: impl std::future::Future<Output = Result<(), E>>,
) -> bool {
    match tokio::time::timeout(WRITE_STALL, op).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::debug!(conn = conn_id, error = %e, "write failed");
            false
        }
        Err(_) => {
            tracing::debug!(conn = conn_id, "peer stopped reading; closing");
            false
        }
    }
}

impl Connection {
    /// Queues a frame for this connection. Waits when the queue is full (a client that does
    /// not read its replies stops being read).
    async fn send(&self, env: &Envelope) {
        tokio::select! {
            _ = self.tx.send(Outbound::Frame(env.encode())) => {}
            _ = self.cancel.cancelled() => {}
        }
    }

    fn peer_id(&self) -> String {
        self.session
            .as_ref()
            .map(|s| s.user_id.to_string())
            .unwrap_or_else(|| SERVER_ID.to_owned())
    }

    async fn send_error(&self, code: i32, msg: &str, fp: Option<String>) {
        let env = Envelope::error(self.peer_id(), &ErrorResponse::new(code, msg, fp));
        self.send(&env).await;
    }

    async fn on_frame(&mut self, body: &[u8]) -> Flow {
        let env = match Envelope::decode(body) {
            Ok(env) => env,
            Err(e) => {
                tracing::debug!(conn = self.conn_id, code = e.code(), "undecodable frame");
                self.send_error(e.code(), &e.to_string(), None).await;
                return Flow::Continue;
            }
        };
        match env.packet_type {
            PacketType::Login => self.on_login(env).await,
            PacketType::Keepalive => {
                self.send(&Envelope::keepalive_response(env.from)).await;
                Flow::Continue
            }
            PacketType::Echo => {
                let mut echo = Envelope::new(PacketType::EchoResp, SERVER_ID, env.from);
                echo.data_content = env.data_content;
                self.send(&echo).await;
                Flow::Continue
            }
            _ if self.session.is_none() => {
                self.send_error(
                    codes::ERR_NOT_LOGGED_IN,
                    "not logged in: send a login (type 0) first",
                    env.fp,
                )
                .await;
                Flow::Close
            }
            PacketType::CommonData => {
                let user_id = self.session.as_ref().map_or(0, |s| s.user_id);
                if let Err(limited) = self.state.limits.check_message(&self.messages, user_id) {
                    // Not stored; the fp lets the client's QoS resend it later. Typing is
                    // never answered, so a limited one is just dropped.
                    tracing::debug!(
                        conn = self.conn_id,
                        user = user_id,
                        what = limited.what,
                        "rate limited"
                    );
                    if env.typeu != hongyan_protocol::kinds::TYPING {
                        let fp = env.fp.filter(|f| !f.is_empty());
                        self.send_error(codes::ERR_RATE_LIMITED, &limited.message(), fp)
                            .await;
                    }
                    return Flow::Pause(limited.retry_after);
                }
                if env.typeu == hongyan_protocol::kinds::TYPING {
                    // Never stored, never answered.
                    relay::relay_typing(&self.state, user_id, env).await;
                    return Flow::Continue;
                }
                let friends_only = self.state.config.friends_only;
                let state = &self.state;
                let result =
                    route_chat(&state.store, &state.metrics, friends_only, user_id, env).await;
                if let Some(reply) = &result.reply {
                    self.send(reply).await;
                }
                match result.stored_at {
                    Some(at) => relay::deliver_stored(&self.state, result.forwards, at),
                    None => relay::deliver(&self.state, result.forwards),
                }
                Flow::Continue
            }
            PacketType::Ack => {
                tracing::debug!(conn = self.conn_id, "client ack");
                Flow::Continue
            }
            PacketType::Logout => {
                tracing::debug!(conn = self.conn_id, "logout");
                Flow::Close
            }
            other => {
                let msg = format!("packet type {} is server-to-client only", other.code());
                self.send_error(codes::ERR_MALFORMED, &msg, env.fp).await;
                Flow::Continue
            }
        }
    }

    async fn login_failed(&self, to: &str, code: i32, msg: &str, first_login_time: i64) -> Flow {
        let resp = LoginResponse {
            code,
            first_login_time,
            seq: None,
            core_level: Some(SERVER_CORE_LEVEL),
            msg: Some(msg.to_owned()),
        };
        self.send(&Envelope::login_response(to, &resp)).await;
        Flow::Close
    }

    async fn on_login(&mut self, env: Envelope) -> Flow {
        if let Err(limited) = self.state.limits.check_conn_login(self.meta.peer) {
            // An error frame, not a login answer: the SDK treats it as transient and
            // reconnects with backoff instead of giving up.
            tracing::debug!(conn = self.conn_id, what = limited.what, "rate limited");
            self.send_error(codes::ERR_RATE_LIMITED, &limited.message(), None)
                .await;
            return Flow::Close;
        }
        let info: LoginInfo = match env.payload() {
            Ok(info) => info,
            Err(e) => {
                let msg = format!("login payload: {e}");
                self.send_error(codes::ERR_MALFORMED, &msg, None).await;
                return Flow::Continue;
            }
        };
        let to = info.login_user_id.as_str();
        let flt = info.first_login_time;
        let Ok(user_id) = info.login_user_id.parse::<i64>() else {
            return self
                .login_failed(to, codes::LOGIN_BAD_TOKEN, "invalid or expired token", flt)
                .await;
        };
        let token = match accounts::check_token(&self.state.store, &info.login_token).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(conn = self.conn_id, error = %e, "token check failed");
                self.send_error(codes::ERR_SERVER_BUSY, "server busy; retry the login", None)
                    .await;
                return Flow::Close;
            }
        };
        let token = match token {
            Some(t) if t.user_id == user_id => t,
            _ => {
                tracing::debug!(
                    conn = self.conn_id,
                    user = user_id,
                    "login with a bad token"
                );
                return self
                    .login_failed(to, codes::LOGIN_BAD_TOKEN, "invalid or expired token", flt)
                    .await;
            }
        };
        if token.disabled {
            return self
                .login_failed(
                    to,
                    codes::LOGIN_ACCOUNT_DISABLED,
                    "the account is disabled",
                    flt,
                )
                .await;
        }
        let version = ClientVersion::resolve(
            info.extra.as_deref(),
            self.meta.header_version.clone(),
            self.meta.user_agent.as_deref(),
        );
        let min = self.state.config.min_core_level;
        if version.core_level < min {
            let msg = format!(
                "this client (core_level {}) is too old; please upgrade Hongyan (minimum core_level {min})",
                version.core_level
            );
            return self
                .login_failed(to, codes::LOGIN_CLIENT_TOO_OLD, &msg, flt)
                .await;
        }
        let state = &self.state;
        let seq = match state
            .metrics
            .time_store("last_seq", state.store.last_seq(user_id))
            .await
        {
            Ok(seq) => seq,
            Err(e) => {
                tracing::warn!(conn = self.conn_id, error = %e, "reading seq failed");
                self.send_error(codes::ERR_SERVER_BUSY, "server busy; retry the login", None)
                    .await;
                return Flow::Close;
            }
        };
        // With a bus, NATS confirms the user's subscription before the answer, so nothing
        // stored after the client's login-time sync can miss this node.
        let mut link = None;
        if let Some(bus) = &self.state.bus {
            match node::subscribe_login(bus, user_id).await {
                Ok(subscribed) => link = Some(subscribed),
                Err(e) => {
                    tracing::warn!(conn = self.conn_id, user = user_id, error = %e, "cannot subscribe the login on the bus");
                    self.send_error(codes::ERR_SERVER_BUSY, "server busy; retry the login", None)
                        .await;
                    return Flow::Close;
                }
            }
        }
        let mut relogin = false;
        if let Some(prev) = self.session.take() {
            prev.stop_following();
            if prev.user_id != user_id {
                if self.state.sessions.remove(prev.user_id, self.conn_id) {
                    relay::announce_presence(&self.state, prev.user_id, false).await;
                }
            } else {
                relogin = true;
            }
        }
        // The answer is queued before the session is visible, so no forwarded message can
        // overtake it.
        let resp = LoginResponse {
            code: codes::LOGIN_OK,
            first_login_time: flt,
            seq: Some(seq),
            core_level: Some(SERVER_CORE_LEVEL),
            msg: None,
        };
        self.send(&Envelope::login_response(to, &resp)).await;
        let progress = Arc::new(PushProgress::new(seq));
        let replaced = self.state.sessions.register(SessionHandle {
            conn_id: self.conn_id,
            user_id,
            first_login_time: flt,
            version: version.clone(),
            transport: self.meta.transport,
            peer: self.meta.peer.map(|p| p.to_string()).unwrap_or_default(),
            since: hongyan_protocol::now_ms(),
            tx: self.tx.clone(),
            cancel: self.cancel.clone(),
            progress: progress.clone(),
        });
        tracing::info!(
            conn = self.conn_id,
            user = user_id,
            transport = self.meta.transport,
            platform = %version.platform,
            app_version = %version.app_version,
            core_level = version.core_level,
            replaced = ?replaced,
            "logged in"
        );
        if replaced != Replaced::Nothing {
            tracing::debug!(
                conn = self.conn_id,
                user = user_id,
                ?replaced,
                "replaced an older session"
            );
        }
        let follow = match (link, &self.state.bus) {
            (Some((subscription, confirmed)), Some(bus)) => {
                if !confirmed || !bus.is_connected() {
                    // Down now: what other nodes publish is missed until the bus is back.
                    progress.mark_outage_after(seq);
                }
                let stop = self.cancel.child_token();
                self.state.tasks.spawn(node::follow_user(
                    self.state.clone(),
                    self.conn_id,
                    subscription,
                    stop.clone(),
                ));
                // Presence first, so the other nodes do not see the user go offline when
                // the kick closes an older session there.
                crate::cluster::logging_in(&self.state, user_id).await;
                node::announce_login(bus, user_id, flt).await;
                Some(stop)
            }
            _ => None,
        };
        self.session = Some(LoggedIn { user_id, follow });
        if replaced == Replaced::Nothing && !relogin {
            // A quiet reconnect or a kick-out replaces a session: the user stayed online.
            relay::announce_presence(&self.state, user_id, true).await;
        }
        Flow::Continue
    }

    async fn finish(self, writer: tokio::task::JoinHandle<()>) {
        if let Some(s) = &self.session {
            s.stop_following();
            if self.state.sessions.remove(s.user_id, self.conn_id) {
                relay::announce_presence(&self.state, s.user_id, false).await;
            }
        }
        if self.tx.try_send(Outbound::Close).is_err() {
            self.cancel.cancel();
        }
        let conn_id = self.conn_id;
        drop(self);
        let abort = writer.abort_handle();
        if tokio::time::timeout(FLUSH_GRACE + Duration::from_secs(1), writer)
            .await
            .is_err()
        {
            abort.abort();
        }
        tracing::debug!(conn = conn_id, "connection closed");
    }
}
