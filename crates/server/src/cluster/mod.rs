//! What makes several nodes act as one (docs/DEPLOY.md): who is online anywhere in the
//! deployment ([`presence`]) and notices pushed on every node ([`notices`]). With one node it
//! is the local session registry and local pushes.

pub mod notices;
pub mod presence;

use crate::AppState;

/// Whether `user` has a live session on any node.
pub fn is_online(state: &AppState, user: i64) -> bool {
    state.sessions.is_online(user)
}
