//! What makes several nodes act as one (docs/DEPLOY.md, "Presence (notes)"): who is online
//! anywhere in the deployment ([`presence`]) and notices pushed on every node ([`notices`]).
//! With one node it is the local session registry and local pushes.

pub mod notices;
pub mod presence;

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::{
    bus::{Bus, BusError},
    relay,
    session::SessionRegistry,
    AppState,
};

/// This node's part in a deployment (`AppState::cluster`); empty with one node.
#[derive(Debug, Default)]
pub struct Cluster {
    presence: Option<presence::Presence>,
    notices: Option<notices::NoticeFeed>,
}

impl Cluster {
    /// One node: the session registry is all there is.
    pub fn single() -> Self {
        Self::default()
    }

    /// Joins the deployment on `bus`: subscribes presence and notices, confirmed by NATS when
    /// it is up (so they are in place before the node serves; when it is down the client sends
    /// them on connecting). [`start`] runs them.
    pub async fn join(bus: &Bus) -> Result<Self, BusError> {
        let presence = presence::Presence::join(bus, presence::Timing::default()).await?;
        let notices = notices::NoticeFeed::join(bus).await?;
        if bus.is_connected() {
            if let Err(e) = bus.flush().await {
                tracing::warn!(error = %e, "presence and notice subscriptions not confirmed");
            }
        }
        Ok(Self {
            presence: Some(presence),
            notices: Some(notices),
        })
    }

    /// The presence directory (with a bus).
    pub fn presence(&self) -> Option<&presence::Presence> {
        self.presence.as_ref()
    }
}

/// Starts the presence and notice tasks on `state.tasks` (nothing with one node); they end
/// at shutdown, the presence task after telling the other nodes this one is leaving.
pub fn start(state: &Arc<AppState>) {
    let Some(bus) = state.bus.clone() else {
        return;
    };
    if state.cluster.presence.is_some() {
        let (flips_tx, flips) = mpsc::unbounded_channel();
        let s = state.clone();
        let b = bus.clone();
        state.tasks.spawn(async move {
            if let Some(presence) = s.cluster.presence() {
                presence
                    .run(&b, &s.sessions, flips_tx, s.shutdown.clone())
                    .await;
            }
        });
        state.tasks.spawn(tell_flips(state.clone(), flips));
    }
    if state.cluster.notices.is_some() {
        let s = state.clone();
        state.tasks.spawn(async move {
            if let Some(feed) = &s.cluster.notices {
                feed.run(&s, s.shutdown.clone()).await;
            }
        });
    }
}

/// Pushes the presence signal to this node's friends of each user whose state elsewhere
/// flipped (unless the user is connected here: then nothing changed for them).
async fn tell_flips(state: Arc<AppState>, mut flips: mpsc::UnboundedReceiver<Vec<presence::Flip>>) {
    while let Some(batch) = flips.recv().await {
        for flip in batch {
            if state.sessions.is_empty() {
                break;
            }
            if !state.sessions.is_online(flip.user) {
                relay::tell_friends_here(&state, flip.user, flip.online).await;
            }
        }
    }
}

impl presence::LocalSessions for SessionRegistry {
    fn online_here(&self) -> Vec<i64> {
        self.snapshot().into_iter().map(|s| s.user_id).collect()
    }

    fn is_here(&self, user: i64) -> bool {
        self.is_online(user)
    }
}

/// Whether `user` has a live session on any node.
pub fn is_online(state: &AppState, user: i64) -> bool {
    state.sessions.is_online(user) || online_elsewhere(state, user)
}

/// Whether `user` has a live session on another node (never with one node).
pub fn online_elsewhere(state: &AppState, user: i64) -> bool {
    state.cluster.presence().is_some_and(|p| p.elsewhere(user))
}

/// `user` came online or went offline on this node: the other nodes are told (with a bus).
pub fn local_change(state: &AppState, user: i64) {
    if let Some(presence) = state.cluster.presence() {
        presence.local_change(user);
    }
}

/// Waits until every presence message this node has received is applied (with a bus), so a
/// decision about a user's presence counts them.
pub async fn settle(state: &AppState) {
    if let Some(presence) = state.cluster.presence() {
        presence.settle().await;
    }
}

/// Tells the other nodes that `user` is logging in here, before the kick of an older session
/// elsewhere goes out (with a bus; see [`presence::Presence::logging_in`]).
pub async fn logging_in(state: &AppState, user: i64) {
    if let (Some(presence), Some(bus)) = (state.cluster.presence(), &state.bus) {
        presence.logging_in(bus, user).await;
    }
}
