//! The HTTP API (JSON) and the router that also carries the WebSocket gateway.

pub mod auth;
pub mod error;
pub mod friends;
pub mod groups;
pub mod health;
pub mod media;
pub mod notices;
pub mod stickers;
pub mod sync;
pub mod updates;

use std::sync::Arc;

use axum::{
    extract::{FromRequest, FromRequestParts},
    middleware,
    routing::{delete, get, post},
    Router,
};
use tower_http::{limit::RequestBodyLimitLayer, trace::TraceLayer};

pub use error::ApiError;

use crate::AppState;

/// Largest request body accepted.
pub const BODY_LIMIT: usize = 64 * 1024;

/// `axum::Json` whose rejections use the API error shape.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Query` whose rejections use the API error shape.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// The whole HTTP surface: API routes, `/healthz` `/readyz` `/metrics`, and the WebSocket gateway.
pub fn router(state: Arc<AppState>) -> Router {
    // Media bodies are streamed to disk under their own limit (--max-media-bytes), so these
    // routes sit outside the small JSON body limit.
    let media = Router::new()
        .route(
            "/api/v1/media/{sha256}",
            get(media::get).head(media::head).put(media::put),
        )
        .route("/api/v1/stickers", get(stickers::list))
        .route("/api/v1/stickers/{pack}/{file}", get(stickers::png))
        .route("/api/v1/updates/{target}/{version}", get(updates::check))
        .route(
            "/api/v1/updates/{target}/{version}/download",
            get(updates::download),
        );
    let json = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/api/v1/register", post(auth::register))
        .route("/api/v1/login", post(auth::login))
        .route("/api/v1/logout", post(auth::logout))
        .route("/api/v1/me", get(auth::me))
        .route("/api/v1/users", get(auth::users))
        .route("/api/v1/users/{id}", get(auth::user))
        .route("/api/v1/sync", get(sync::sync))
        .route(
            "/api/v1/friends/requests",
            post(friends::send_request).get(friends::list_requests),
        )
        .route(
            "/api/v1/friends/requests/{id}/accept",
            post(friends::accept),
        )
        .route(
            "/api/v1/friends/requests/{id}/decline",
            post(friends::decline),
        )
        .route("/api/v1/friends", get(friends::list))
        .route("/api/v1/friends/{user_id}", delete(friends::remove))
        .route("/api/v1/groups", post(groups::create).get(groups::list))
        .route(
            "/api/v1/groups/{gid}",
            get(groups::get).patch(groups::rename),
        )
        .route(
            "/api/v1/groups/{gid}/members",
            get(groups::members).post(groups::add_members),
        )
        .route(
            "/api/v1/groups/{gid}/members/{user_id}",
            delete(groups::remove_member),
        )
        .route("/api/v1/broadcasts", get(notices::changes))
        .route(
            "/api/v1/admin/broadcasts",
            post(notices::create).get(notices::list_all),
        )
        .route(
            "/api/v1/admin/broadcasts/{id}/publish",
            post(notices::publish),
        )
        .route("/api/v1/admin/broadcasts/{id}", delete(notices::recall))
        .route("/api/v1/admin/sessions", get(notices::sessions))
        .route("/websocket", get(crate::gateway::ws::upgrade))
        .fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "not_found",
                "no such endpoint",
            )
        })
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT));
    json.merge(media)
        .layer(middleware::map_response(error::json_errors))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
