//! Operations endpoints, unauthenticated: `/healthz` (the process answers), `/readyz` (its
//! dependencies answer) and `/metrics` (Prometheus text). See docs/DEPLOY.md, "Operations".

use std::{sync::Arc, time::Duration};

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;

use crate::AppState;

/// How long `/readyz` waits for the store before calling it unready.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The content type of the Prometheus text exposition format.
const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `/healthz`: the process is alive and serving HTTP.
pub async fn healthz() -> &'static str {
    "ok"
}

#[derive(Debug, Serialize)]
pub struct Readiness {
    pub ready: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

/// `/readyz`: 200 `{"ready":true}` when every dependency answers in time, else 503 with
/// one reason per failing dependency.
pub async fn readyz(State(state): State<Arc<AppState>>) -> (StatusCode, Json<Readiness>) {
    let mut reasons = Vec::new();
    if let Some(reason) = store_problem(&state).await {
        reasons.push(reason);
    }
    // NATS (issue 8): when configured, push "nats: not connected" here.
    let ready = reasons.is_empty();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(Readiness { ready, reasons }))
}

/// Why the store is not ready: a trivial read that must answer within [`READY_TIMEOUT`].
async fn store_problem(state: &AppState) -> Option<String> {
    match tokio::time::timeout(READY_TIMEOUT, state.store.user_exists(0)).await {
        Ok(Ok(_)) => None,
        Ok(Err(e)) => Some(format!("store: {e}")),
        Err(_) => Some(format!(
            "store: no answer within {} ms",
            READY_TIMEOUT.as_millis()
        )),
    }
}

/// `/metrics`: Prometheus text; connection gauges are read from the session registry now.
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let sessions = state.sessions.snapshot();
    let body = state
        .metrics
        .encode(|t| sessions.iter().filter(|s| s.transport == t).count());
    ([(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)], body).into_response()
}
