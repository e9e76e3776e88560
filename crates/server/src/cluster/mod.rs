//! What makes several nodes act as one (docs/DEPLOY.md): who is online anywhere in the
//! deployment. With one node it is the local session registry.

use crate::AppState;

/// Whether `user` has a live session on any node.
pub fn is_online(state: &AppState, user: i64) -> bool {
    state.sessions.is_online(user)
}
