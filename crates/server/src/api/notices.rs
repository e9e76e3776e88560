//! Notices (broadcasts): the reader's change feed and the admin endpoints; the admin
//! session list.

use std::sync::Arc;

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use hongyan_protocol::{
    api::{Audience, CreateNotice, Notice, NoticesPage, Session, SessionList},
    kinds,
};
use serde::{Deserialize, Serialize};

use super::{
    auth::{parse_user_id, AuthUser},
    ApiError, ApiJson, ApiQuery,
};
use crate::{cluster, AppState};

/// Longest notice title and body, in characters.
pub const TITLE_MAX: usize = 200;
pub const BODY_MAX: usize = 10_000;

#[derive(Debug, Deserialize)]
pub struct NoticesQuery {
    #[serde(default)]
    pub after: i64,
}

/// `GET /api/v1/broadcasts?after=<cursor>`: notices visible to me that changed after
/// `cursor` (new, widened to me, recalled), and the next cursor.
pub async fn changes(
    State(state): State<Arc<AppState>>,
    auth: AuthUser,
    ApiQuery(query): ApiQuery<NoticesQuery>,
) -> Result<Json<NoticesPage>, ApiError> {
    let (notices, cursor) = state
        .store
        .notices_after(auth.user_id, query.after.max(0))
        .await?;
    Ok(Json(NoticesPage { notices, cursor }))
}

fn notice_id(id: &str) -> Result<i64, ApiError> {
    id.trim()
        .parse()
        .map_err(|_| ApiError::not_found("no such notice"))
}

/// A trimmed notice field of 1..=`max` characters, or 400 (public for the fuzz target).
pub fn text(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    let len = value.chars().count();
    if len == 0 || len > max {
        return Err(ApiError::invalid_request(format!(
            "{field} must be 1 to {max} characters long"
        )));
    }
    Ok(value.to_owned())
}

/// `POST /api/v1/admin/broadcasts`: 201 `Notice` (with its audience). Online members of the
/// audience get typeu 80 (on every node).
pub async fn create(
    State(state): State<Arc<AppState>>,
    auth: AuthUser,
    ApiJson(req): ApiJson<CreateNotice>,
) -> Result<(StatusCode, Json<Notice>), ApiError> {
    auth.require_admin()?;
    let title = text("title", &req.title, TITLE_MAX)?;
    let body = text("body", &req.body, BODY_MAX)?;
    let (all, ids) = match &req.audience {
        Audience::All => (true, Vec::new()),
        Audience::Users(ids) if ids.is_empty() => {
            return Err(ApiError::invalid_request(
                "audience must be \"all\" or a non-empty list of user ids",
            ))
        }
        Audience::Users(ids) => (
            false,
            ids.iter()
                .map(|id| parse_user_id(id))
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let notice = state
        .store
        .create_notice(title, body, ids.clone(), all)
        .await?;
    let audience = (!all).then_some(ids);
    cluster::notices::announce(&state, kinds::BROADCAST_NOTIFY, notice.id, audience).await;
    Ok((StatusCode::CREATED, Json(notice)))
}

/// `POST /api/v1/admin/broadcasts/{id}/publish`: visible to all; everyone online gets 80.
pub async fn publish(
    State(state): State<Arc<AppState>>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Notice>, ApiError> {
    auth.require_admin()?;
    let notice = state.store.publish_notice(notice_id(&id)?).await?;
    cluster::notices::announce(&state, kinds::BROADCAST_NOTIFY, notice.id, None).await;
    Ok(Json(notice))
}

/// `DELETE /api/v1/admin/broadcasts/{id}`: 204, recalled; everyone online gets 81.
pub async fn recall(
    State(state): State<Arc<AppState>>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth.require_admin()?;
    let notice = state.store.recall_notice(notice_id(&id)?).await?;
    cluster::notices::announce(&state, kinds::BROADCAST_RECALL, notice.id, None).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize)]
pub struct AdminNotices {
    pub notices: Vec<Notice>,
}

/// `GET /api/v1/admin/broadcasts` (Hongyan addition): every notice with its audience.
pub async fn list_all(
    State(state): State<Arc<AppState>>,
    auth: AuthUser,
) -> Result<Json<AdminNotices>, ApiError> {
    auth.require_admin()?;
    Ok(Json(AdminNotices {
        notices: state.store.all_notices().await?,
    }))
}

/// `GET /api/v1/admin/sessions`: every live long-connection session.
pub async fn sessions(
    State(state): State<Arc<AppState>>,
    auth: AuthUser,
) -> Result<Json<SessionList>, ApiError> {
    auth.require_admin()?;
    let mut sessions = Vec::new();
    for s in state.sessions.snapshot() {
        let username = state
            .store
            .user_by_id(s.user_id)
            .await?
            .map(|u| u.username)
            .unwrap_or_default();
        sessions.push(Session {
            user_id: s.user_id.to_string(),
            username,
            transport: s.transport.to_owned(),
            peer: s.peer,
            platform: s.version.platform.as_str().to_owned(),
            app_version: s.version.app_version,
            core_level: s.version.core_level,
            since: s.since,
        });
    }
    sessions.sort_by_key(|s| s.since);
    Ok(Json(SessionList { sessions }))
}
