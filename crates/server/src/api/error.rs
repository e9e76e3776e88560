//! The API's one error shape: `{"error":{"code":"snake_case","message":"…"}}`.

use axum::{
    body::Body,
    extract::rejection::{JsonRejection, QueryRejection},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

use crate::store::StoreError;

/// An API error: HTTP status, stable machine code, human message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// `Retry-After` seconds (429 `rate_limited`).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 429 `rate_limited` with `Retry-After` (docs/RELIABILITY.md, "Rate limits").
    pub fn rate_limited(limited: &crate::limits::Limited) -> Self {
        tracing::debug!(what = limited.what, retry_after = ?limited.retry_after, "rate limited");
        Self {
            retry_after: Some(limited.retry_after_secs()),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                limited.message(),
            )
        }
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid bearer token is required",
        )
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "internal server error",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::new(StatusCode::NOT_FOUND, "not_found", "not found"),
            StoreError::NoSuchUser => Self::new(StatusCode::NOT_FOUND, "not_found", "no such user"),
            StoreError::AlreadyFriends => Self::new(
                StatusCode::CONFLICT,
                "already_friends",
                "you are already friends",
            ),
            StoreError::NotPending => Self::new(
                StatusCode::CONFLICT,
                "not_pending",
                "the request was already answered",
            ),
            StoreError::NotFriends(id) => Self::new(
                StatusCode::FORBIDDEN,
                "not_friends",
                format!("user {id} is not your friend"),
            ),
            StoreError::TooManyMembers => Self::invalid_request(e.to_string()),
            StoreError::Forbidden(why) => Self::new(StatusCode::FORBIDDEN, "forbidden", why),
            StoreError::NotAllowed => Self::new(StatusCode::FORBIDDEN, "forbidden", e.to_string()),
            e => {
                tracing::error!(error = %e, "store error in HTTP handler");
                Self::internal()
            }
        }
    }
}

/// The code for a bare status (used for rejections and non-JSON error responses).
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => "invalid_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UPGRADE_REQUIRED => "upgrade_required",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        s if s.is_server_error() => "internal_error",
        _ => "error",
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        Self::new(status, code_for_status(status), r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::invalid_request(r.body_text())
    }
}

/// Middleware: rewrites any error response that is not JSON yet (router 404/405, body limit
/// 413, upgrade failures) into the API's error shape.
pub async fn json_errors(mut resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        // The rest of the body is never read: the connection cannot carry another request,
        // and a client that reused it would see its next request cut off.
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let (mut parts, _body) = resp.into_parts();
    let message = status.canonical_reason().unwrap_or("error").to_lowercase();
    let body = json!({"error": {"code": code_for_status(status), "message": message}});
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(body.to_string()))
}
