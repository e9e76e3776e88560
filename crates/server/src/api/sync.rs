//! `GET /api/v1/sync`: pages through the caller's mailbox by seq.

use std::sync::Arc;

use axum::{extract::State, Json};
use hongyan_protocol::Envelope;
use serde::{Deserialize, Serialize};

use super::{auth::AuthUser, ApiError, ApiQuery};
use crate::{version::ClientInfo, AppState};

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 500;

#[derive(Debug, Deserialize)]
pub struct SyncQuery {
    #[serde(default)]
    pub after: i64,
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct SyncResponse {
    pub messages: Vec<Envelope>,
    pub more: bool,
}

/// Returns up to `limit` envelopes with seq > `after`, oldest first.
pub async fn sync(
    State(state): State<Arc<AppState>>,
    auth: AuthUser,
    client: ClientInfo,
    ApiQuery(query): ApiQuery<SyncQuery>,
) -> Result<Json<SyncResponse>, ApiError> {
    // Out-of-range limits are clamped rather than refused: 0 → 1, above the cap → the cap.
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let after = query.after.max(0);
    let mut rows = state
        .metrics
        .time_store(
            "mailbox_after",
            state.store.mailbox_after(auth.user_id, after, limit + 1),
        )
        .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    // Kinds the caller's core_level predates come as text fallbacks (stored rows unchanged);
    // signals with no readable form are left out for such a caller.
    let version = client.0.unwrap_or_default();
    let messages = rows
        .iter()
        .filter_map(|r| crate::router::adapt_for_client(r.to_envelope(), &version))
        .collect();
    Ok(Json(SyncResponse { messages, more }))
}
