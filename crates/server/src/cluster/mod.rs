//! What makes several nodes act as one (docs/DEPLOY.md, "Presence (notes)"): who is online
//! anywhere in the deployment ([`presence`]) and notices pushed on every node ([`notices`]).
//! With one node it is the local session registry and local pushes.

pub mod notices;
pub mod presence;

use crate::AppState;

/// Whether `user` has a live session on any node.
pub fn is_online(state: &AppState, user: i64) -> bool {
    state.sessions.is_online(user) || online_elsewhere(state, user)
}

/// Whether `user` has a live session on another node (never with one node).
pub fn online_elsewhere(_state: &AppState, _user: i64) -> bool {
    false
}

/// `user` came online or went offline on this node: the other nodes are told (with a bus).
pub fn local_change(_state: &AppState, _user: i64) {}

/// Waits until every presence message this node has received is applied (with a bus), so a
/// decision about a user's presence counts them.
pub async fn settle(_state: &AppState) {}

/// Tells the other nodes that `user` is logging in here, before the kick of an older session
/// elsewhere goes out (with a bus; see [`presence::Presence::logging_in`]).
pub async fn logging_in(_state: &AppState, _user: i64) {}
