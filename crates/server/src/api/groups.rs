//! Groups over HTTP: create, list, get, rename, members (list, invite, remove / leave).

use std::sync::Arc;

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use hongyan_protocol::api::{
    parse_group_id, AddMembers, CreateGroup, Group, GroupList, MemberList, RenameGroup,
    GROUP_NAME_MAX, MAX_GROUP_MEMBERS,
};

use super::{
    auth::{parse_user_id, AuthUser},
    ApiError, ApiJson,
};
use crate::{relay, AppState};

fn gid(path: &str) -> Result<i64, ApiError> {
    parse_group_id(path.trim()).ok_or_else(|| ApiError::not_found("no such group"))
}

/// A trimmed group name, or 400 (public for the fuzz target in `fuzz/`).
pub fn group_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    let len = name.chars().count();
    if len == 0 || len > GROUP_NAME_MAX {
        return Err(ApiError::invalid_request(format!(
            "a group name is 1 to {GROUP_NAME_MAX} characters long"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::invalid_request(
            "a group name must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// Member ids from a body, or 400 (public for the fuzz target in `fuzz/`).
pub fn user_ids(ids: &[String]) -> Result<Vec<i64>, ApiError> {
    if ids.len() > MAX_GROUP_MEMBERS {
        return Err(ApiError::invalid_request(format!(
            "a group has at most {MAX_GROUP_MEMBERS} members"
        )));
    }
    ids.iter()
        .map(|id| {
            parse_user_id(id)
                .map_err(|_| ApiError::invalid_request(format!("not a user id: {id:?}")))
        })
        .collect()
}

/// `POST /api/v1/groups`: 201 `Group`; the creator owns it.
pub async fn create(
    State(state): State<Arc<AppState>>,
    auth: AuthUser,
    ApiJson(req): ApiJson<CreateGroup>,
) -> Result<(StatusCode, Json<Group>), ApiError> {
    let name = group_name(&req.name)?;
    let members = user_ids(&req.members)?;
    let (group, deliveries) = state
        .store
        .create_group(auth.user_id, name, members, state.config.friends_only)
        .await?;
    relay::deliver(&state, deliveries);
    Ok((StatusCode::CREATED, Json(group)))
}

/// `GET /api/v1/groups`: mine.
pub async fn list(
    State(state): State<Arc<AppState>>,
    auth: AuthUser,
) -> Result<Json<GroupList>, ApiError> {
    Ok(Json(GroupList {
        groups: state.store.groups_of(auth.user_id).await?,
    }))
}

/// `GET /api/v1/groups/{gid}` (members only).
pub async fn get(
    State(state): State<Arc<AppState>>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Group>, ApiError> {
    Ok(Json(state.store.group(auth.user_id, gid(&id)?).await?))
}

/// `PATCH /api/v1/groups/{gid}` `{"name"}` (any member).
pub async fn rename(
    State(state): State<Arc<AppState>>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RenameGroup>,
) -> Result<Json<Group>, ApiError> {
    let name = group_name(&req.name)?;
    let (group, deliveries) = state
        .store
        .rename_group(auth.user_id, gid(&id)?, name)
        .await?;
    relay::deliver(&state, deliveries);
    Ok(Json(group))
}

/// `GET /api/v1/groups/{gid}/members`
pub async fn members(
    State(state): State<Arc<AppState>>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<MemberList>, ApiError> {
    Ok(Json(MemberList {
        members: state.store.group_members(auth.user_id, gid(&id)?).await?,
    }))
}

/// `POST /api/v1/groups/{gid}/members` `{"members":[…]}` (any member invites).
pub async fn add_members(
    State(state): State<Arc<AppState>>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AddMembers>,
) -> Result<Json<Group>, ApiError> {
    let ids = user_ids(&req.members)?;
    let (group, deliveries) = state
        .store
        .add_group_members(auth.user_id, gid(&id)?, ids, state.config.friends_only)
        .await?;
    relay::deliver(&state, deliveries);
    Ok(Json(group))
}

/// `DELETE /api/v1/groups/{gid}/members/{user_id}`: the owner removes anyone; a member
/// removes only itself (leaves).
pub async fn remove_member(
    State(state): State<Arc<AppState>>,
    auth: AuthUser,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let target = parse_user_id(&user_id)?;
    let deliveries = state
        .store
        .remove_group_member(auth.user_id, gid(&id)?, target)
        .await?;
    relay::deliver(&state, deliveries);
    Ok(StatusCode::NO_CONTENT)
}
