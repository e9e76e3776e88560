//! Pushing to online users: stored deliveries (chat forwards and events), and the live-only
//! signals that are never stored — presence (91), typing (92), notice notify/recall (80/81).

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant, SystemTime},
};

use hongyan_protocol::{
    api::{NoticeRef, Presence},
    kinds, Envelope, PacketType, SERVER_ID,
};

use crate::{store::Delivery, AppState};

/// Typing packets relayed at most once per this interval per sender → recipient.
pub const TYPING_INTERVAL: Duration = Duration::from_secs(1);
/// Above this many remembered pairs, stale ones are dropped.
const TYPING_PRUNE_AT: usize = 10_000;

/// Pushes each delivery to its user if online, adapted to that session's core_level.
pub fn deliver(state: &AppState, deliveries: Vec<Delivery>) {
    for (user, env) in deliveries {
        push(state, user, env);
    }
}

/// [`deliver`] for messages stored at `stored_at`: each push that reaches a connection here
/// is recorded in the delivery latency histogram; one for another node carries the store
/// time there (see [`crate::node`]).
pub fn deliver_stored(state: &AppState, deliveries: Vec<Delivery>, stored_at: Instant) {
    for (user, env) in deliveries {
        match state.sessions.get(user) {
            Some(session) => {
                if session.push(env) {
                    state.metrics.delivered(stored_at);
                }
            }
            None => publish(state, user, env, Some(crate::node::wall_time_of(stored_at))),
        }
    }
}

/// Pushes one frame to `user`: queued on the user's session here (adapted to its
/// core_level), else, with a bus, published for the node that has it (never waited for).
/// `true` only if it was queued on a connection of this node.
pub fn push(state: &AppState, user: i64, env: Envelope) -> bool {
    match state.sessions.get(user) {
        Some(session) => session.push(env),
        None => {
            publish(state, user, env, None);
            false
        }
    }
}

/// Hands `env` to the bus for `user` on another node (nothing without a bus).
fn publish(state: &AppState, user: i64, env: Envelope, stored_at: Option<SystemTime>) {
    if let Some(publisher) = &state.publisher {
        publisher.publish(user, env, stored_at);
    }
}

/// A signal from the server: type 2, QoS false, no fp, not stored.
fn signal(to: i64, typeu: i32, content: String) -> Envelope {
    let mut env = Envelope::new(PacketType::CommonData, SERVER_ID, to.to_string());
    env.typeu = typeu;
    env.data_content = Some(content);
    env.sm = hongyan_protocol::now_ms();
    env
}

/// `user` came online or went offline on this node: the other nodes are told, and `user`'s
/// friends connected here get the presence signal if the user's state changed for them.
/// With several nodes, friends on other nodes hear it from their own node
/// (docs/DEPLOY.md, "Presence (notes)").
pub async fn announce_presence(state: &AppState, user: i64, online: bool) {
    crate::cluster::local_change(state, user);
    if !online {
        // Count another node's "online" that came in just before what closed this session.
        crate::cluster::settle(state).await;
    }
    // Online on another node: nothing changed for anyone. Going offline: a new session may
    // have registered here meanwhile; then nothing changed either.
    if crate::cluster::online_elsewhere(state, user) || (!online && state.sessions.is_online(user))
    {
        return;
    }
    tell_friends_here(state, user, online).await;
}

/// Pushes the presence signal (91) for `user` to `user`'s friends connected to this node.
pub async fn tell_friends_here(state: &AppState, user: i64, online: bool) {
    let friends = match state.store.friend_ids(user).await {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(user, error = %e, "presence: reading friends failed");
            return;
        }
    };
    let content = serde_json::to_string(&Presence {
        user: user.to_string(),
        online,
    })
    .unwrap_or_default();
    for friend in friends {
        if let Some(session) = state.sessions.get(friend) {
            session.push(signal(friend, kinds::PRESENCE, content.clone()));
        }
    }
}

/// Sends notice notify (80) or recall (81) for `id` to every user online on this node that
/// `visible` admits (every node does this for its own: `cluster::notices`).
pub fn announce_notice(state: &AppState, typeu: i32, id: i64, visible: impl Fn(i64) -> bool) {
    let content = serde_json::to_string(&NoticeRef { id }).unwrap_or_default();
    for session in state.sessions.snapshot() {
        if visible(session.user_id) {
            session.push(signal(session.user_id, typeu, content.clone()));
        }
    }
}

/// Remembers when each sender → recipient pair last had a typing packet relayed.
#[derive(Debug, Default)]
pub struct TypingGate {
    last: Mutex<HashMap<(i64, i64), Instant>>,
}

impl TypingGate {
    /// Whether a typing packet from `from` to `to` may go out now (and records it if so).
    pub fn allow(&self, from: i64, to: i64, now: Instant) -> bool {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last
            .get(&(from, to))
            .is_some_and(|t| now.duration_since(*t) < TYPING_INTERVAL)
        {
            return false;
        }
        if last.len() >= TYPING_PRUNE_AT {
            last.retain(|_, t| now.duration_since(*t) < TYPING_INTERVAL);
        }
        last.insert((from, to), now);
        true
    }
}

/// Relays a typing packet (typeu 92) from `from`: only to a friend who is online, at most
/// once per [`TYPING_INTERVAL`] per pair; everything else is dropped without an answer.
pub async fn relay_typing(state: &AppState, from: i64, env: Envelope) {
    let Some(to) = env
        .to
        .parse::<i64>()
        .ok()
        .filter(|to| *to > 0 && *to != from)
    else {
        return;
    };
    if env.from != from.to_string() || !crate::cluster::is_online(state, to) {
        return;
    }
    if !state.typing.allow(from, to, Instant::now()) {
        return;
    }
    match state.store.is_friend(from, to).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::debug!(error = %e, "typing: friendship check failed");
            return;
        }
    }
    let mut out = Envelope::new(PacketType::CommonData, env.from, env.to);
    out.typeu = kinds::TYPING;
    out.data_content = env.data_content;
    out.sm = hongyan_protocol::now_ms();
    push(state, to, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_gate_lets_one_per_second_per_pair() {
        let gate = TypingGate::default();
        let t0 = Instant::now();
        assert!(gate.allow(1, 2, t0));
        assert!(!gate.allow(1, 2, t0 + Duration::from_millis(500)));
        assert!(gate.allow(2, 1, t0), "the other direction is its own pair");
        assert!(gate.allow(1, 3, t0));
        assert!(gate.allow(1, 2, t0 + Duration::from_millis(1000)));
    }
}
