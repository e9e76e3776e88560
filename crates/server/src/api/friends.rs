//! Friends over HTTP: requests, answers, the list (with presence), removal.

use std::sync::Arc;

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use hongyan_protocol::api::{
    Friend, FriendList, FriendRequest, FriendRequests, SendFriendRequest, FRIEND_MESSAGE_MAX,
};

use super::{
    auth::{parse_user_id, AuthUser},
    ApiError, ApiJson,
};
use crate::{relay, AppState};

/// `POST /api/v1/friends/requests`: 201 with the new (or still pending) request; 200 with
/// status `accepted` when the other side had asked already.
pub async fn send_request(
    State(state): State<Arc<AppState>>,
    auth: AuthUser,
    ApiJson(req): ApiJson<SendFriendRequest>,
) -> Result<(StatusCode, Json<FriendRequest>), ApiError> {
    let to = parse_user_id(&req.to)?;
    if to == auth.user_id {
        return Err(ApiError::invalid_request("you cannot befriend yourself"));
    }
    let message = req.message.unwrap_or_default().trim().to_owned();
    if message.chars().count() > FRIEND_MESSAGE_MAX {
        return Err(ApiError::invalid_request(format!(
            "the message may be at most {FRIEND_MESSAGE_MAX} characters"
        )));
    }
    let sent = state
        .store
        .send_friend_request(auth.user_id, to, message)
        .await?;
    relay::deliver(&state, sent.deliveries);
    let status = if sent.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(sent.request)))
}

/// `GET /api/v1/friends/requests`: pending requests to and from me.
pub async fn list_requests(
    State(state): State<Arc<AppState>>,
    auth: AuthUser,
) -> Result<Json<FriendRequests>, ApiError> {
    Ok(Json(state.store.friend_requests(auth.user_id).await?))
}

async fn answer(
    state: &AppState,
    auth: &AuthUser,
    id: &str,
    accept: bool,
) -> Result<Json<FriendRequest>, ApiError> {
    let id: i64 = id
        .trim()
        .parse()
        .map_err(|_| ApiError::not_found("no such friend request"))?;
    let (request, deliveries) = state
        .store
        .answer_friend_request(auth.user_id, id, accept)
        .await?;
    relay::deliver(state, deliveries);
    Ok(Json(request))
}

/// `POST /api/v1/friends/requests/{id}/accept`
pub async fn accept(
    State(state): State<Arc<AppState>>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<FriendRequest>, ApiError> {
    answer(&state, &auth, &id, true).await
}

/// `POST /api/v1/friends/requests/{id}/decline`
pub async fn decline(
    State(state): State<Arc<AppState>>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<FriendRequest>, ApiError> {
    answer(&state, &auth, &id, false).await
}

/// `GET /api/v1/friends`: my friends, with whether each is online now.
pub async fn list(
    State(state): State<Arc<AppState>>,
    auth: AuthUser,
) -> Result<Json<FriendList>, ApiError> {
    let friends = state
        .store
        .friends(auth.user_id)
        .await?
        .into_iter()
        .map(|(user, since)| {
            let online = user
                .user_id
                .parse()
                .is_ok_and(|id| crate::cluster::is_online(&state, id));
            Friend {
                user,
                since,
                online,
            }
        })
        .collect();
    Ok(Json(FriendList { friends }))
}

/// `DELETE /api/v1/friends/{user_id}`: 204; both sides get a `removed` event.
pub async fn remove(
    State(state): State<Arc<AppState>>,
    auth: AuthUser,
    Path(user_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let other = parse_user_id(&user_id)?;
    let deliveries = state.store.remove_friend(auth.user_id, other).await?;
    relay::deliver(&state, deliveries);
    Ok(StatusCode::NO_CONTENT)
}
