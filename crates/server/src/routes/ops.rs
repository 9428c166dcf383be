//! Operations: liveness/readiness and Prometheus metrics.

use crate::app::AppState;
use crate::error::ApiError;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/metrics", get(metrics))
}

/// 200 when the database answers, 503 otherwise.
async fn healthz(State(s): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    match s.db.ping().await {
        Ok(()) => Ok(Json(json!({ "status": "ok" }))),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database does not answer");
            Err(ApiError::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the database does not answer"))
        }
    }
}

async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], s.metrics.render())
}
