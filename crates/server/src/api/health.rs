//! Operations endpoints, unauthenticated: `/healthz` (the process answers), `/readyz` (its
//! dependencies answer) and `/metrics` (Prometheus text). See docs/DEPLOY.md, "Operations".

use std::{fmt::Display, future::Future, sync::Arc, time::Duration};

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
    if let Some(reason) = store_problem(state.store.user_exists(0), READY_TIMEOUT).await {
        reasons.push(reason);
    }
    if let Some(reason) = bus_problem(state.bus.as_ref().map(|bus| bus.is_connected())) {
        reasons.push(reason);
    }
    let ready = reasons.is_empty();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(Readiness { ready, reasons }))
}

/// Why the store is not ready: `probe` (a trivial read) failed or did not answer in `wait`.
async fn store_problem<T, E: Display>(
    probe: impl Future<Output = Result<T, E>>,
    wait: Duration,
) -> Option<String> {
    match tokio::time::timeout(wait, probe).await {
        Ok(Ok(_)) => None,
        Ok(Err(e)) => Some(format!("store: {e}")),
        Err(_) => Some(format!("store: no answer within {} ms", wait.as_millis())),
    }
}

/// Why the bus is not ready: configured (`Some`) but not connected now.
fn bus_problem(connected: Option<bool>) -> Option<String> {
    (connected == Some(false)).then(|| "nats: not connected".to_owned())
}

/// `/metrics`: Prometheus text; connection gauges are read from the session registry now.
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let body = state.metrics.encode(|t| state.sessions.count_on(t));
    ([(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAIT: Duration = Duration::from_millis(50);

    #[tokio::test]
    async fn a_store_that_answers_is_ready() {
        let probe = async { Ok::<_, String>(false) };
        assert_eq!(store_problem(probe, WAIT).await, None);
    }

    #[tokio::test]
    async fn a_store_error_is_the_reason() {
        let probe = async { Err::<bool, _>("database is locked") };
        assert_eq!(
            store_problem(probe, WAIT).await.as_deref(),
            Some("store: database is locked")
        );
    }

    #[tokio::test]
    async fn a_store_that_hangs_is_not_ready_after_the_wait() {
        let probe = std::future::pending::<Result<bool, String>>();
        assert_eq!(
            store_problem(probe, WAIT).await.as_deref(),
            Some("store: no answer within 50 ms")
        );
    }

    #[test]
    fn only_a_configured_bus_that_is_down_is_a_reason() {
        assert_eq!(bus_problem(None), None, "one node: no bus to wait for");
        assert_eq!(bus_problem(Some(true)), None);
        assert_eq!(
            bus_problem(Some(false)).as_deref(),
            Some("nats: not connected")
        );
    }

    #[test]
    fn unready_lists_reasons_and_ready_omits_them() {
        let ready = serde_json::to_value(Readiness {
            ready: true,
            reasons: Vec::new(),
        })
        .expect("json");
        assert_eq!(ready, serde_json::json!({"ready": true}));
        let not = serde_json::to_value(Readiness {
            ready: false,
            reasons: vec!["store: x".into()],
        })
        .expect("json");
        assert_eq!(
            not,
            serde_json::json!({"ready": false, "reasons": ["store: x"]})
        );
    }
}
