//! This node's side of the bus when it is one of many (docs/DEPLOY.md, "Node wiring"):
//! publishing deliveries for users on other nodes without making anyone wait, following a
//! logged-in user's subject (deliveries and kicks from other nodes), and pushing what NATS
//! lost while it was down once it is back.

use std::{
    sync::{Arc, Weak},
    time::{Duration, Instant, SystemTime},
};

use hongyan_protocol::{codes, Envelope};
use prometheus_client::metrics::counter::Counter;
use tokio::sync::{broadcast::error::RecvError, mpsc};
use tokio_util::sync::CancellationToken;

use crate::{
    bus::{Bus, BusError, LinkEvent, UserEvent, UserSubscription},
    session::SessionHandle,
    AppState,
};

/// Deliveries waiting to be published; beyond this they are dropped (and counted): the bus is
/// best effort and sync delivers them.
pub const PUBLISH_QUEUE: usize = 8192;
/// At most this many mailbox rows are pushed to one session after an outage; a session
/// further behind is closed, and its client syncs when it logs in again.
pub const CATCH_UP_LIMIT: u32 = 200;
/// How long a reconnected bus may take to confirm its re-sent subscriptions.
const RESUBSCRIBE_WAIT: Duration = Duration::from_secs(10);
/// Pause between checks while waiting for the re-sent subscriptions.
const RESUBSCRIBE_POLL: Duration = Duration::from_millis(50);

/// One delivery for a user who has no session on this node.
#[derive(Debug)]
struct Outgoing {
    user: i64,
    envelope: Envelope,
    stored_at: Option<SystemTime>,
}

/// The queue in front of the bus: the store + ACK path hands deliveries over and goes on;
/// one task publishes them in order.
#[derive(Debug, Clone)]
pub struct Publisher {
    tx: mpsc::Sender<Outgoing>,
    failures: Counter,
}

impl Publisher {
    /// Starts the publishing task; it ends at `shutdown` or when every `Publisher` is gone.
    pub fn start(bus: Bus, failures: Counter, shutdown: CancellationToken) -> Self {
        let (tx, rx) = mpsc::channel(PUBLISH_QUEUE);
        tokio::spawn(publish_loop(bus, rx, failures.clone(), shutdown));
        Self { tx, failures }
    }

    /// Queues `envelope` for user `user` (stored at `stored_at`, if it was); never waits.
    pub fn publish(&self, user: i64, envelope: Envelope, stored_at: Option<SystemTime>) {
        let outgoing = Outgoing {
            user,
            envelope,
            stored_at,
        };
        if let Err(e) = self.tx.try_send(outgoing) {
            tracing::warn!(user, error = %e, "bus publish queue full; sync delivers it");
            self.failures.inc();
        }
    }
}

async fn publish_loop(
    bus: Bus,
    mut rx: mpsc::Receiver<Outgoing>,
    failures: Counter,
    shutdown: CancellationToken,
) {
    loop {
        let next = tokio::select! {
            _ = shutdown.cancelled() => break,
            next = rx.recv() => next,
        };
        let Some(out) = next else { break };
        let published = match out.stored_at {
            Some(at) => bus.publish_stored(out.user, &out.envelope, at).await,
            None => bus.publish_to_user(out.user, &out.envelope).await,
        };
        match published {
            Ok(()) => {}
            // Expected during an outage (readyz says so); the catch-up covers it.
            Err(BusError::Disconnected) => {
                tracing::debug!(user = out.user, "bus down; delivery left to sync");
                failures.inc();
            }
            Err(e) => {
                tracing::warn!(user = out.user, error = %e, "bus publish failed; delivery left to sync");
                failures.inc();
            }
        }
    }
}

/// The wall-clock time of `at` (an `Instant` a moment ago), to carry to another node.
pub fn wall_time_of(at: Instant) -> SystemTime {
    let now = SystemTime::now();
    now.checked_sub(at.elapsed()).unwrap_or(now)
}

/// Subscribes `user`'s subjects for a login. `Ok(true)` once NATS confirmed it, `Ok(false)`
/// when NATS is down (the subscription is sent on reconnect and the session is caught up
/// then); an error when the subscription could not even be queued.
pub async fn subscribe_login(bus: &Bus, user: i64) -> Result<(UserSubscription, bool), BusError> {
    let subscription = bus.subscribe_user(user).await?;
    match bus.flush().await {
        Ok(()) => Ok((subscription, true)),
        Err(e) => {
            tracing::info!(user, error = %e, "login while the bus is down; catching up once it is back");
            Ok((subscription, false))
        }
    }
}

/// Tells the other nodes that `user` logged in here (their older sessions are kicked).
pub async fn announce_login(bus: &Bus, user: i64, first_login_time: i64) {
    if let Err(e) = bus.publish_kick(user, first_login_time).await {
        tracing::info!(user, error = %e, "cannot announce the login to other nodes");
    }
}

/// Serves connection `conn_id`'s subscription for its user until `stop` or the bus closes:
/// deliveries are pushed to the session, a newer login elsewhere ends it.
pub async fn follow_user(
    state: Arc<AppState>,
    conn_id: u64,
    mut subscription: UserSubscription,
    stop: CancellationToken,
) {
    let user = subscription.user_id();
    loop {
        let event = tokio::select! {
            _ = stop.cancelled() => break,
            event = subscription.next() => event,
        };
        let Some(event) = event else { break };
        // Only the connection that subscribed: a newer login on this node has its own.
        let Some(session) = state.sessions.get(user).filter(|s| s.conn_id == conn_id) else {
            continue;
        };
        match event {
            UserEvent::Deliver {
                envelope,
                stored_at,
            } => {
                if session.push(envelope) {
                    if let Some(at) = stored_at {
                        let took = SystemTime::now().duration_since(at).unwrap_or_default();
                        state.metrics.delivered_after(took);
                    }
                }
            }
            UserEvent::Kick(kick) if kick.node == state.config.node_name => {}
            UserEvent::Kick(kick) => {
                end_for_login_elsewhere(&session, kick.first_login_time);
                break;
            }
        }
    }
}

/// The same rule as `SessionRegistry::register`: the same client moved (same
/// `first_login_time`) → close quietly; another client → KICKOUT code 1.
fn end_for_login_elsewhere(session: &SessionHandle, first_login_time: i64) {
    tracing::info!(
        conn = session.conn_id,
        user = session.user_id,
        moved = session.first_login_time == first_login_time,
        "logged in on another node"
    );
    if session.first_login_time == first_login_time {
        session.close();
    } else {
        session.kick(codes::KICKOUT_DUPLICATE_LOGIN, "logged in elsewhere");
    }
}

/// Starts following the bus's ups and downs for the whole node: an outage is marked on every
/// session, and once the bus is back each marked session gets the mailbox rows it missed.
pub fn watch_links(state: Weak<AppState>, bus: Bus, shutdown: CancellationToken) {
    let links = bus.link_events();
    tokio::spawn(links_loop(state, bus, links, shutdown));
}

async fn links_loop(
    state: Weak<AppState>,
    bus: Bus,
    mut links: tokio::sync::broadcast::Receiver<LinkEvent>,
    shutdown: CancellationToken,
) {
    loop {
        let event = tokio::select! {
            _ = shutdown.cancelled() => break,
            event = links.recv() => event,
        };
        let up = match event {
            Ok(LinkEvent::Connected) => true,
            Ok(LinkEvent::Disconnected) => false,
            // Missed events: the state now decides.
            Err(RecvError::Lagged(_)) => bus.is_connected(),
            Err(RecvError::Closed) => break,
        };
        let Some(state) = state.upgrade() else { break };
        if up {
            tracing::info!("bus connected");
            catch_up_all(&state, &bus).await;
        } else {
            tracing::warn!("bus disconnected; deliveries from other nodes wait for it");
            for session in state.sessions.snapshot() {
                session.progress.mark_outage();
            }
        }
    }
}

/// Once the re-sent subscriptions are confirmed (from then on NATS delivers again), pushes
/// each marked session the mailbox rows after its mark.
async fn catch_up_all(state: &AppState, bus: &Bus) {
    let deadline = Instant::now() + RESUBSCRIBE_WAIT;
    loop {
        match bus.flush().await {
            Ok(()) => break,
            Err(e) if Instant::now() >= deadline => {
                // The marks stay; the next reconnect tries again.
                tracing::warn!(error = %e, "bus back but not answering; no catch-up yet");
                return;
            }
            Err(_) => tokio::time::sleep(RESUBSCRIBE_POLL).await,
        }
    }
    for session in state.sessions.snapshot() {
        if let Some(after) = session.progress.take_resume() {
            catch_up(state, &session, after).await;
        }
    }
}

/// Pushes `session` the rows of its mailbox after `after` that came from others (its own sent
/// copies were never pushed). Clients drop what they already have by fp.
async fn catch_up(state: &AppState, session: &SessionHandle, after: i64) {
    let user = session.user_id;
    let rows = state
        .metrics
        .time_store(
            "mailbox_after",
            state.store.mailbox_after(user, after, CATCH_UP_LIMIT + 1),
        )
        .await;
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(user, error = %e, "catch-up after the bus outage failed; retrying at the next reconnect");
            session.progress.mark_outage_after(after);
            return;
        }
    };
    if rows.len() > CATCH_UP_LIMIT as usize {
        tracing::info!(
            user,
            after,
            "too far behind after the bus outage; closing so the client syncs"
        );
        session.close();
        return;
    }
    let mut pushed = 0;
    for row in rows.iter().filter(|row| row.from != user) {
        if session.push(row.to_envelope()) {
            pushed += 1;
        }
    }
    tracing::debug!(user, after, pushed, "caught up after the bus outage");
}
