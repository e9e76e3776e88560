//! The engine: the single task that owns the long connection. It logs in, sends
//! heartbeats, detects dead links, reconnects with backoff, flushes and resends the outbox
//! (QoS), stores and ACKs incoming messages and dispatches events. A companion task runs
//! HTTP syncs on request (coalesced through a `Notify`). After each login it also starts the
//! pending image uploads (`media/upload.rs`), which release their envelopes into the outbox.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hongyan_protocol::api::{NoticeRef, Presence};
use hongyan_protocol::{
    codes, kinds, now_ms, ClientVersion, Envelope, ErrorResponse, KickoutInfo, LoginExtra,
    LoginInfo, LoginResponse, PacketType, SERVER_ID,
};
use tokio::sync::{broadcast, mpsc, oneshot, watch, Notify};
use tokio::task::JoinHandle;
use tokio::time::{interval_at, sleep_until, Instant, MissedTickBehavior};

use crate::backoff::Backoff;
use crate::config::Timing;
use crate::connection::{Connection, Endpoint, RecvError};
use crate::error::{Error, Result};
use crate::events::{ConnectionState, Event};
use crate::http::Http;
use crate::media::cache::MediaCache;
use crate::media::stickers::StickerCache;
use crate::media::upload::Uploads;
use crate::qos::{self, QosPolicy};
use crate::store::Store;
use crate::sync;

/// What one logged-in account shares between the client API, the engine and sync.
pub(crate) struct Session {
    pub user_id: String,
    pub token: String,
    pub store: Store,
    pub http: Http,
    pub events: broadcast::Sender<Event>,
    pub sync_lock: tokio::sync::Mutex<()>,
    /// One notices pull at a time.
    pub notices_lock: tokio::sync::Mutex<()>,
    /// The engine's command queue (sync uses it to put queued receipts on the wire).
    pub commands: mpsc::UnboundedSender<Command>,
    /// Last known online state per user id (friends list answers, typeu 91).
    pub presence: Arc<Mutex<HashMap<String, bool>>>,
    /// The core_level this client announces.
    pub core_level: u32,
    /// The account's media cache (`<account dir>/media/`).
    pub media: MediaCache,
    /// The account's sticker packs and images (`<account dir>/stickers/`).
    pub stickers: StickerCache,
    /// Running image uploads (at most one task per message).
    pub uploads: Uploads,
}

impl Session {
    pub fn emit(&self, event: Event) {
        // No receiver is not an error.
        let _ = self.events.send(event);
    }

    /// Records a user's online state; emits [`Event::PresenceChanged`] when it changed
    /// (`announce`) .
    pub fn set_presence(&self, user_id: &str, online: bool, announce: bool) {
        let before = self
            .presence
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(user_id.to_owned(), online);
        if announce && before != Some(online) {
            self.emit(Event::PresenceChanged {
                user_id: user_id.to_owned(),
                online,
            });
        }
    }
}

/// Requests from the client API to the engine.
pub(crate) enum Command {
    /// A new outbox entry: put it on the wire now if connected (else the next login does).
    Send(Envelope),
    /// The network came back or the machine woke up: reconnect now / check the link.
    Reconnect,
    /// Send LOGOUT (type 3), close and stop.
    Logout(oneshot::Sender<()>),
    /// Close and stop, keeping everything for a later resume.
    Shutdown(oneshot::Sender<()>),
}

/// Static engine settings.
#[derive(Clone)]
pub(crate) struct EngineConfig {
    pub endpoint: Endpoint,
    pub version: ClientVersion,
    pub device: String,
    pub timing: Timing,
    /// This client's first successful login time, reused by every re-login.
    pub first_login_time: Arc<Mutex<Option<i64>>>,
}

/// Handle the client keeps to a running engine.
pub(crate) struct EngineHandle {
    pub commands: mpsc::UnboundedSender<Command>,
    pub task: JoinHandle<()>,
}

/// Starts the engine. `first` receives the outcome of the first login attempt: Ok once
/// logged in; an error for a rejected login; for a network failure an error when
/// `fail_fast` (interactive login) or Ok when not (resume: keep trying in the background).
pub(crate) fn spawn(
    session: Arc<Session>,
    cfg: EngineConfig,
    state: Arc<watch::Sender<ConnectionState>>,
    first: oneshot::Sender<Result<()>>,
    fail_fast: bool,
    rx: mpsc::UnboundedReceiver<Command>,
) -> EngineHandle {
    let tx = session.commands.clone();
    let backoff = Backoff::new(cfg.timing.backoff_min, cfg.timing.backoff_max);
    let engine = Engine {
        session,
        cfg,
        state,
        commands: rx,
        first: Some(first),
        fail_fast,
        backoff,
        sync_notify: Arc::new(Notify::new()),
        notices_notify: Arc::new(Notify::new()),
    };
    EngineHandle {
        commands: tx,
        task: tokio::spawn(engine.run()),
    }
}

enum LoginFailure {
    /// Network trouble: try again later.
    Transient(Error),
    /// The server refused this login: stop.
    Fatal(Error),
}

/// How a connected period ended.
enum End {
    /// The link broke: reconnect.
    Dropped,
    /// Logout, shutdown or kickout: stop.
    Stop,
}

enum Flow {
    Continue,
    Drop,
    Stop,
}

struct Engine {
    session: Arc<Session>,
    cfg: EngineConfig,
    state: Arc<watch::Sender<ConnectionState>>,
    commands: mpsc::UnboundedReceiver<Command>,
    first: Option<oneshot::Sender<Result<()>>>,
    fail_fast: bool,
    backoff: Backoff,
    sync_notify: Arc<Notify>,
    notices_notify: Arc<Notify>,
}

impl Engine {
    async fn run(mut self) {
        let sync_task = tokio::spawn(sync_worker(self.session.clone(), self.sync_notify.clone()));
        let notices_task = tokio::spawn(notices_worker(
            self.session.clone(),
            self.notices_notify.clone(),
        ));
        loop {
            self.set_state(ConnectionState::Connecting);
            match self.connect_and_login().await {
                Ok((conn, resp)) => {
                    self.backoff.reset();
                    self.set_state(ConnectionState::Connected);
                    self.report_first(Ok(()));
                    tracing::info!(server_seq = ?resp.seq, "logged in on the long connection");
                    if let End::Stop = self.connected(conn).await {
                        break;
                    }
                }
                Err(LoginFailure::Fatal(err)) => {
                    tracing::warn!(error = %err, "long-connection login refused; not reconnecting");
                    match &err {
                        Error::TokenExpired => self.session.emit(Event::AuthExpired),
                        Error::AccountDisabled => self.session.emit(Event::LoginRejected {
                            code: codes::LOGIN_ACCOUNT_DISABLED,
                            message: err.to_string(),
                        }),
                        Error::ClientTooOld(msg) => self.session.emit(Event::LoginRejected {
                            code: codes::LOGIN_CLIENT_TOO_OLD,
                            message: msg.clone(),
                        }),
                        Error::LoginRejected { code, message } => {
                            self.session.emit(Event::LoginRejected {
                                code: *code,
                                message: message.clone(),
                            })
                        }
                        _ => {}
                    }
                    self.report_first(Err(err));
                    break;
                }
                Err(LoginFailure::Transient(err)) => {
                    tracing::info!(error = %err, "long connection failed");
                    if self.fail_fast && self.first.is_some() {
                        self.report_first(Err(err));
                        break;
                    }
                    self.report_first(Ok(()));
                }
            }
            if !self.wait_before_reconnect().await {
                break;
            }
        }
        sync_task.abort();
        notices_task.abort();
        self.set_state(ConnectionState::Offline);
    }

    fn report_first(&mut self, result: Result<()>) {
        if let Some(tx) = self.first.take() {
            let _ = tx.send(result);
        }
    }

    fn set_state(&self, new: ConnectionState) {
        let changed = self.state.send_if_modified(|s| {
            if *s == new {
                false
            } else {
                *s = new.clone();
                true
            }
        });
        if changed {
            self.session.emit(Event::ConnectionStateChanged(new));
        }
    }

    /// Sleeps the backoff delay while still serving commands. False = stop the engine.
    async fn wait_before_reconnect(&mut self) -> bool {
        let delay = self.backoff.next_delay();
        self.set_state(ConnectionState::Reconnecting {
            attempt: self.backoff.attempt(),
            in_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
        });
        let deadline = Instant::now() + delay;
        loop {
            tokio::select! {
                _ = sleep_until(deadline) => return true,
                cmd = self.commands.recv() => match cmd {
                    None => return false,
                    Some(Command::Logout(done) | Command::Shutdown(done)) => {
                        let _ = done.send(());
                        return false;
                    }
                    Some(Command::Reconnect) => {
                        self.backoff.reset();
                        return true;
                    }
                    // Already in the outbox: the next login flushes it.
                    Some(Command::Send(_)) => {}
                },
            }
        }
    }

    async fn connect_and_login(&mut self) -> Result<(Connection, LoginResponse), LoginFailure> {
        let timeout = self.cfg.timing.connect_timeout;
        match tokio::time::timeout(timeout, self.login_once()).await {
            Ok(r) => r,
            Err(_) => Err(LoginFailure::Transient(Error::Timeout)),
        }
    }

    async fn login_once(&self) -> Result<(Connection, LoginResponse), LoginFailure> {
        let mut conn = Connection::connect(&self.cfg.endpoint, &self.cfg.version)
            .await
            .map_err(LoginFailure::Transient)?;
        let first_login_time = self
            .cfg
            .first_login_time
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .unwrap_or_else(now_ms);
        let extra = LoginExtra::new(&self.cfg.version, self.cfg.device.clone());
        let info = LoginInfo {
            login_user_id: self.session.user_id.clone(),
            login_token: self.session.token.clone(),
            extra: serde_json::to_string(&extra).ok(),
            first_login_time,
        };
        conn.send(&Envelope::login(&info))
            .await
            .map_err(LoginFailure::Transient)?;
        loop {
            let env = match conn.recv().await {
                None => {
                    return Err(LoginFailure::Transient(Error::Network(
                        "connection closed during login".into(),
                    )))
                }
                Some(Err(RecvError::Closed(e))) => return Err(LoginFailure::Transient(e)),
                Some(Err(RecvError::Malformed(e))) => {
                    tracing::warn!(error = %e, "malformed frame during login");
                    continue;
                }
                Some(Ok(env)) => env,
            };
            match env.packet_type {
                PacketType::LoginResp => {
                    let resp: LoginResponse = env.payload().map_err(|e| {
                        LoginFailure::Transient(Error::Protocol(format!("login response: {e}")))
                    })?;
                    let msg = resp.msg.clone().unwrap_or_default();
                    return match resp.code {
                        codes::LOGIN_OK => {
                            let mut flt = self
                                .cfg
                                .first_login_time
                                .lock()
                                .unwrap_or_else(|p| p.into_inner());
                            flt.get_or_insert(first_login_time);
                            Ok((conn, resp))
                        }
                        codes::LOGIN_BAD_TOKEN => Err(LoginFailure::Fatal(Error::TokenExpired)),
                        codes::LOGIN_ACCOUNT_DISABLED => {
                            Err(LoginFailure::Fatal(Error::AccountDisabled))
                        }
                        codes::LOGIN_CLIENT_TOO_OLD => {
                            Err(LoginFailure::Fatal(Error::ClientTooOld(msg)))
                        }
                        code => Err(LoginFailure::Fatal(Error::LoginRejected {
                            code,
                            message: msg,
                        })),
                    };
                }
                PacketType::Error => {
                    let e: Option<ErrorResponse> = env.payload().ok();
                    return Err(LoginFailure::Transient(Error::Protocol(format!(
                        "error {} during login",
                        e.map(|e| e.error_code).unwrap_or(0)
                    ))));
                }
                other => tracing::debug!(?other, "ignoring a packet before the login answer"),
            }
        }
    }

    /// The connected period: flush the outbox, start a sync, then serve the link.
    async fn connected(&mut self, mut conn: Connection) -> End {
        if self.flush_outbox(&mut conn).await.is_err() {
            return End::Dropped;
        }
        // Image messages held for their upload: the uploads run over HTTP beside the link
        // and release each envelope into the outbox when done.
        Uploads::resume_pending(&self.session).await;
        self.sync_notify.notify_one();
        self.notices_notify.notify_one();

        let t = self.cfg.timing.clone();
        let mut heartbeat = interval_at(Instant::now() + t.heartbeat, t.heartbeat);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut qos_timer = interval_at(Instant::now() + t.qos_check, t.qos_check);
        qos_timer.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_inbound = Instant::now();
        let me = self.session.user_id.clone();

        loop {
            let dead_at = last_inbound + t.dead_link;
            tokio::select! {
                frame = conn.recv() => match frame {
                    None => {
                        tracing::info!("server closed the connection");
                        return End::Dropped;
                    }
                    Some(Err(RecvError::Closed(e))) => {
                        tracing::info!(error = %e, "connection broke");
                        return End::Dropped;
                    }
                    Some(Err(RecvError::Malformed(e))) => {
                        last_inbound = Instant::now();
                        tracing::warn!(error = %e, "ignoring a malformed frame");
                    }
                    Some(Ok(env)) => {
                        last_inbound = Instant::now();
                        match self.handle(&mut conn, env).await {
                            Flow::Continue => {}
                            Flow::Drop => {
                                conn.close().await;
                                return End::Dropped;
                            }
                            Flow::Stop => {
                                conn.close().await;
                                return End::Stop;
                            }
                        }
                    }
                },
                cmd = self.commands.recv() => match cmd {
                    None => {
                        conn.close().await;
                        return End::Stop;
                    }
                    Some(Command::Send(env)) => {
                        if conn.send(&env).await.is_err() {
                            return End::Dropped;
                        }
                    }
                    Some(Command::Reconnect) => {
                        // Probe the link; a dead one fails the write or the dead-link timer.
                        if conn.send(&Envelope::keepalive(me.clone())).await.is_err() {
                            return End::Dropped;
                        }
                    }
                    Some(Command::Logout(done)) => {
                        let _ = conn.send(&Envelope::logout(me.clone())).await;
                        conn.close().await;
                        let _ = done.send(());
                        return End::Stop;
                    }
                    Some(Command::Shutdown(done)) => {
                        conn.close().await;
                        let _ = done.send(());
                        return End::Stop;
                    }
                },
                _ = heartbeat.tick() => {
                    if conn.send(&Envelope::keepalive(me.clone())).await.is_err() {
                        return End::Dropped;
                    }
                }
                _ = qos_timer.tick() => {
                    if self.qos_check(&mut conn).await.is_err() {
                        return End::Dropped;
                    }
                }
                _ = sleep_until(dead_at) => {
                    tracing::info!("no traffic for {:?}: dead link", t.dead_link);
                    conn.close().await;
                    return End::Dropped;
                }
            }
        }
    }

    /// Sends every outbox entry once (parked ones too), resetting its attempts for this
    /// connection.
    async fn flush_outbox(&self, conn: &mut Connection) -> Result<()> {
        let (entries, unparked) = self
            .session
            .store
            .call(|s| Ok((s.outbox()?, s.unpark_all()?)))
            .await?;
        for m in unparked {
            self.session.emit(Event::MessageStatusChanged {
                id: m.id,
                status: m.status,
            });
        }
        if entries.is_empty() {
            return Ok(());
        }
        tracing::info!(count = entries.len(), "resending the outbox after login");
        for e in &entries {
            conn.send(&e.envelope).await?;
        }
        let ids: Vec<String> = entries.into_iter().map(|e| e.id).collect();
        self.session
            .store
            .call(move |s| s.outbox_sent(&ids, now_ms(), true))
            .await
    }

    /// One QoS round: resend what is due, fail what ran out of retries.
    async fn qos_check(&self, conn: &mut Connection) -> Result<()> {
        let policy = QosPolicy::from_timing(&self.cfg.timing);
        let now = now_ms();
        let (entries, plan) = self
            .session
            .store
            .call(move |s| {
                let entries = s.outbox()?;
                let plan = qos::plan(&policy, now, &entries);
                Ok((entries, plan))
            })
            .await?;
        for id in &plan.resend {
            if let Some(e) = entries.iter().find(|e| &e.id == id) {
                tracing::debug!(id, attempts = e.attempts + 1, "QoS resend");
                conn.send(&e.envelope).await?;
            }
        }
        let fail = plan.fail;
        let resend = plan.resend;
        let failed = self
            .session
            .store
            .call(move |s| {
                if !resend.is_empty() {
                    s.outbox_sent(&resend, now, false)?;
                }
                let mut failed = Vec::new();
                for id in &fail {
                    if let Some(m) = s.park(id, qos::NO_ACK_REASON)? {
                        failed.push(m);
                    }
                }
                Ok(failed)
            })
            .await?;
        for m in failed {
            tracing::info!(
                id = m.id,
                "no acknowledgement; shown as failed, resent after the next login"
            );
            self.session.emit(Event::MessageStatusChanged {
                id: m.id,
                status: m.status,
            });
        }
        Ok(())
    }

    async fn handle(&self, conn: &mut Connection, env: Envelope) -> Flow {
        match env.packet_type {
            PacketType::CommonData => self.on_message(conn, env).await,
            PacketType::Ack => {
                let Some(fp) = env.data_content.filter(|f| !f.is_empty()) else {
                    return Flow::Continue;
                };
                match self.session.store.call(move |s| s.ack(&fp)).await {
                    Ok(Some(m)) => self.session.emit(Event::MessageStatusChanged {
                        id: m.id,
                        status: m.status,
                    }),
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = %e, "could not record an ACK"),
                }
                Flow::Continue
            }
            PacketType::Error => self.on_error(env).await,
            PacketType::Kickout => {
                let info: KickoutInfo = env.payload().unwrap_or(KickoutInfo {
                    code: codes::KICKOUT_DUPLICATE_LOGIN,
                    reason: String::new(),
                });
                tracing::warn!(code = info.code, reason = %info.reason, "kicked out");
                self.session.emit(Event::KickedOut {
                    code: info.code,
                    reason: info.reason,
                });
                Flow::Stop
            }
            PacketType::KeepaliveResp | PacketType::EchoResp | PacketType::LoginResp => {
                Flow::Continue
            }
            other => {
                tracing::debug!(?other, "ignoring an unexpected packet");
                Flow::Continue
            }
        }
    }

    /// Signals that are never stored: presence, typing, notice notify / recall. ACKed if
    /// the server asked for it.
    async fn on_signal(&self, conn: &mut Connection, env: Envelope) -> Flow {
        let body = env.data_content.as_deref().unwrap_or_default();
        match env.typeu {
            kinds::PRESENCE => match serde_json::from_str::<Presence>(body) {
                Ok(p) => self.session.set_presence(&p.user, p.online, true),
                Err(e) => tracing::debug!(error = %e, "unreadable presence"),
            },
            kinds::TYPING if !env.is_to_group() && env.from != self.session.user_id => {
                self.session.emit(Event::Typing {
                    conversation_id: env.from.clone(),
                    user_id: env.from.clone(),
                });
            }
            kinds::BROADCAST_NOTIFY => self.notices_notify.notify_one(),
            kinds::BROADCAST_RECALL => match serde_json::from_str::<NoticeRef>(body) {
                Ok(n) => crate::notices::remove(&self.session, n.id).await,
                Err(e) => tracing::debug!(error = %e, "unreadable notice recall"),
            },
            _ => {}
        }
        if let Some(fp) = env.fp.filter(|f| env.qos && !f.is_empty()) {
            let ack = Envelope::ack(self.session.user_id.clone(), SERVER_ID, fp);
            if conn.send(&ack).await.is_err() {
                return Flow::Drop;
            }
        }
        Flow::Continue
    }

    /// Incoming chat: store first, then ACK, then announce.
    async fn on_message(&self, conn: &mut Connection, env: Envelope) -> Flow {
        if kinds::is_transient(env.typeu) {
            return self.on_signal(conn, env).await;
        }
        let me = self.session.user_id.clone();
        let fp = env.fp.clone().filter(|_| env.qos);
        let seq = env.seq;
        let stored = self
            .session
            .store
            .call(move |s| {
                let ingested = sync::ingest(s, &me, std::slice::from_ref(&env), now_ms())?;
                let mut gap = false;
                if let Some(seq) = seq {
                    let cursor = s.sync_cursor()?;
                    if seq == cursor + 1 {
                        s.advance_sync_cursor(seq)?;
                    } else if seq > cursor + 1 {
                        gap = true;
                    }
                }
                Ok((ingested, gap))
            })
            .await;
        let (ingested, gap) = match stored {
            Ok(r) => r,
            Err(e) => {
                // Not stored: no ACK, the server keeps it in the mailbox for the next sync.
                tracing::error!(error = %e, "could not store an incoming message");
                return Flow::Continue;
            }
        };
        if let Some(fp) = fp {
            let ack = Envelope::ack(self.session.user_id.clone(), SERVER_ID, fp);
            if conn.send(&ack).await.is_err() {
                sync::emit(&self.session, &ingested);
                return Flow::Drop;
            }
        }
        sync::emit(&self.session, &ingested);
        // Delivered receipts (already in the outbox: a failed write is resent after login).
        for env in &ingested.outbound {
            if conn.send(env).await.is_err() {
                return Flow::Drop;
            }
        }
        if gap {
            self.sync_notify.notify_one();
        }
        Flow::Continue
    }

    async fn on_error(&self, env: Envelope) -> Flow {
        let Ok(err) = env.payload::<ErrorResponse>() else {
            tracing::warn!("unreadable error packet");
            return Flow::Continue;
        };
        let Some(fp) = err.fp.clone().filter(|f| !f.is_empty()) else {
            tracing::warn!(code = err.error_code, msg = %err.error_msg, "server error");
            if err.error_code == codes::ERR_NOT_LOGGED_IN {
                return Flow::Drop;
            }
            return Flow::Continue;
        };
        // Busy (1106) and rate limited (1102): not stored, so it stays in the outbox and QoS
        // resends it after `qos_min_age`, without counting an attempt.
        if matches!(
            err.error_code,
            codes::ERR_SERVER_BUSY | codes::ERR_RATE_LIMITED
        ) {
            tracing::info!(
                fp,
                code = err.error_code,
                "server busy or rate limited; the message stays in the outbox"
            );
            let _ = self
                .session
                .store
                .call(move |s| s.outbox_touch(&fp, now_ms()))
                .await;
            return Flow::Continue;
        }
        let (code, reason) = (err.error_code, err.error_msg);
        match self
            .session
            .store
            .call(move |s| s.fail(&fp, code, &reason))
            .await
        {
            Ok(Some(m)) => self.session.emit(Event::MessageStatusChanged {
                id: m.id,
                status: m.status,
            }),
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "could not record a send failure"),
        }
        Flow::Continue
    }
}

/// Pulls notices after every login and on every notice notify (typeu 80), coalesced.
async fn notices_worker(session: Arc<Session>, notify: Arc<Notify>) {
    loop {
        notify.notified().await;
        match crate::notices::pull(&session).await {
            Ok(_) => {}
            Err(Error::Unauthorized) => session.emit(Event::AuthExpired),
            Err(e) => tracing::warn!(error = %e, "notices pull failed"),
        }
    }
}

async fn sync_worker(session: Arc<Session>, notify: Arc<Notify>) {
    const RETRIES: u32 = 3;
    loop {
        notify.notified().await;
        for attempt in 1..=RETRIES {
            match sync::run(&session).await {
                Ok(_) => break,
                Err(Error::Unauthorized) => {
                    tracing::warn!("sync: token rejected");
                    session.emit(Event::AuthExpired);
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "sync failed");
                    if attempt < RETRIES {
                        tokio::time::sleep(Duration::from_secs(u64::from(attempt))).await;
                    }
                }
            }
        }
    }
}
