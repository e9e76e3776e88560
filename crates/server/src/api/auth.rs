//! Accounts over HTTP: register, login, logout, me, user lookup and search; the bearer
//! extractor.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    extract::{ConnectInfo, FromRequestParts, State},
    http::{header::AUTHORIZATION, request::Parts, StatusCode},
    Json,
};
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiJson, ApiQuery};
use crate::{
    accounts::{self, LoginError},
    store::{StoreError, UserRecord},
    version::ClientInfo,
    AppState,
};

/// The caller, from `Authorization: Bearer <token>`.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user_id: i64,
    pub token_hash: String,
    pub is_admin: bool,
}

impl AuthUser {
    /// Admin routes: 403 `forbidden` for everyone else.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin {
            Ok(())
        } else {
            Err(ApiError::forbidden("administrators only"))
        }
    }
}

/// A user id from a path or body (`"10001"`); 404 `not_found` when it is not one.
pub fn parse_user_id(id: &str) -> Result<i64, ApiError> {
    id.trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::not_found(format!("no such user: {id:?}")))
}

impl FromRequestParts<Arc<AppState>> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(ApiError::unauthorized)?;
        let info = accounts::check_token(&state.store, token)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        if info.disabled {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "account_disabled",
                "the account is disabled",
            ));
        }
        Ok(Self {
            user_id: info.user_id,
            token_hash: accounts::token_hash(token),
            is_admin: info.is_admin,
        })
    }
}

#[derive(Deserialize)]
pub struct RegisterRequest {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub nickname: Option<String>,
}

/// Never prints the password (docs/RELIABILITY.md, "Secrets").
impl std::fmt::Debug for RegisterRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisterRequest")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("nickname", &self.nickname)
            .finish()
    }
}

#[derive(Debug, Serialize)]
pub struct RegisterResponse {
    pub user_id: String,
    pub username: String,
}

/// `POST /api/v1/register`
pub async fn register(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    client: ClientInfo,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<RegisterResponse>), ApiError> {
    // Before any work: registering hashes a password (argon2), which is what a flood costs.
    state
        .limits
        .check_http_login(peer, None)
        .map_err(|l| ApiError::rate_limited(&l))?;
    accounts::validate_username(&req.username).map_err(ApiError::invalid_request)?;
    accounts::validate_password(&req.password).map_err(ApiError::invalid_request)?;
    let nickname = req
        .nickname
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| req.username.clone());
    accounts::validate_nickname(&nickname).map_err(ApiError::invalid_request)?;
    let password = req.password;
    let hash = accounts::run_hashing(move || accounts::hash_password(&password))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|e| {
            tracing::error!(error = %e, "hashing failed");
            ApiError::internal()
        })?;
    let user_id = match state
        .store
        .create_user(req.username.clone(), nickname, hash)
        .await
    {
        Ok(id) => id,
        Err(StoreError::UsernameTaken) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "username_taken",
                "that username is already taken",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(
        user = user_id,
        core_level = client.core_level(),
        "registered"
    );
    Ok((
        StatusCode::CREATED,
        Json(RegisterResponse {
            user_id: user_id.to_string(),
            username: req.username,
        }),
    ))
}

#[derive(Deserialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// Never prints the password.
impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[derive(Serialize)]
pub struct LoginResponse {
    pub user_id: String,
    pub token: String,
    /// ms since the epoch.
    pub expires_at: i64,
}

/// Never prints the token.
impl std::fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginResponse")
            .field("user_id", &self.user_id)
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// `POST /api/v1/login`
pub async fn login(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    client: ClientInfo,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    if req.username.len() > 256 || req.password.len() > 1024 {
        return Err(invalid_credentials());
    }
    // Every attempt counts, right or wrong: the address's bucket, then the username's.
    state
        .limits
        .check_http_login(peer, Some(&req.username))
        .map_err(|l| ApiError::rate_limited(&l))?;
    // A client that declares an old core (headers / User-Agent) is told to upgrade before
    // it gets a token; one that declares nothing is checked at the long-connection login.
    let min = state.config.min_core_level;
    if client.0.is_some() && client.core_level() < min {
        return Err(ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            "client_too_old",
            format!(
                "this client (core_level {}) is too old; please upgrade Hongyan (minimum core_level {min})",
                client.core_level()
            ),
        ));
    }
    match accounts::login(
        &state.store,
        &req.username,
        &req.password,
        state.config.token_ttl,
    )
    .await
    {
        Ok(issued) => {
            tracing::info!(
                user = issued.user_id,
                core_level = client.core_level(),
                "token issued"
            );
            Ok(Json(LoginResponse {
                user_id: issued.user_id.to_string(),
                token: issued.token,
                expires_at: issued.expires_at,
            }))
        }
        Err(LoginError::InvalidCredentials) => Err(invalid_credentials()),
        Err(LoginError::Disabled) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "account_disabled",
            "the account is disabled",
        )),
        Err(LoginError::Store(e)) => Err(e.into()),
        Err(LoginError::Internal(e)) => {
            tracing::error!(error = %e, "login failed");
            Err(ApiError::internal())
        }
    }
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "invalid username or password",
    )
}

/// `POST /api/v1/logout`: revokes the calling token.
pub async fn logout(
    State(state): State<Arc<AppState>>,
    auth: AuthUser,
) -> Result<StatusCode, ApiError> {
    state.store.delete_token(auth.token_hash).await?;
    tracing::info!(user = auth.user_id, "token revoked");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize)]
pub struct UserView {
    pub user_id: String,
    pub username: String,
    pub nickname: String,
}

impl From<UserRecord> for UserView {
    fn from(u: UserRecord) -> Self {
        Self {
            user_id: u.id.to_string(),
            username: u.username,
            nickname: u.nickname,
        }
    }
}

/// `GET /api/v1/me`
pub async fn me(
    State(state): State<Arc<AppState>>,
    auth: AuthUser,
) -> Result<Json<UserView>, ApiError> {
    let user = state
        .store
        .user_by_id(auth.user_id)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    Ok(Json(user.into()))
}

/// `GET /api/v1/users/{id}`: one user's public profile (any signed-in caller).
pub async fn user(
    State(state): State<Arc<AppState>>,
    _auth: AuthUser,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<UserView>, ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such user");
    let id: i64 = id.trim().parse().map_err(|_| not_found())?;
    let user = state.store.user_by_id(id).await?.ok_or_else(not_found)?;
    Ok(Json(user.into()))
}

#[derive(Debug, Deserialize)]
pub struct UsersQuery {
    #[serde(default)]
    pub q: String,
}

#[derive(Debug, Serialize)]
pub struct UsersResponse {
    pub users: Vec<UserView>,
}

/// Most users a search returns.
pub const USER_SEARCH_LIMIT: u32 = 20;

/// `GET /api/v1/users?q=<prefix>`
pub async fn users(
    State(state): State<Arc<AppState>>,
    _auth: AuthUser,
    ApiQuery(query): ApiQuery<UsersQuery>,
) -> Result<Json<UsersResponse>, ApiError> {
    let q = query.q.trim();
    if q.chars().count() > crate::accounts::USERNAME_MAX {
        return Ok(Json(UsersResponse { users: Vec::new() }));
    }
    let found = state
        .store
        .search_users(q.to_owned(), USER_SEARCH_LIMIT)
        .await?;
    Ok(Json(UsersResponse {
        users: found.into_iter().map(UserView::from).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_holds_no_password_or_token() {
        let register = RegisterRequest {
            username: "alice".into(),
            password: "pw-3f9a-secret".into(),
            nickname: None,
        };
        let login = LoginRequest {
            username: "alice".into(),
            password: "pw-3f9a-secret".into(),
        };
        let answer = LoginResponse {
            user_id: "1".into(),
            token: "tok-77c1".into(),
            expires_at: 0,
        };
        for text in [
            format!("{register:?}"),
            format!("{login:?}"),
            format!("{answer:?}"),
        ] {
            assert!(text.contains("alice") || text.contains("user_id"), "{text}");
            assert!(
                !text.contains("pw-3f9a-secret") && !text.contains("tok-77c1"),
                "{text}"
            );
        }
    }
}
