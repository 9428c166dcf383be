//! Operations: liveness/readiness and Prometheus metrics.

use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz)).routes(routes!(metrics))
}

/// 200 when the database answers, 503 otherwise.
#[utoipa::path(get, path = "/healthz", tag = "operations", summary = "200 when the database answers", responses((status = 200, description = "ok", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)))]
async fn healthz(State(s): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    match s.db.ping().await {
        Ok(()) => Ok(Json(json!({ "status": "ok" }))),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database does not answer");
            Err(ApiError::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the database does not answer"))
        }
    }
}

#[utoipa::path(get, path = "/metrics", tag = "operations", summary = "Prometheus metrics (text)", responses((status = 200, description = "Prometheus text format", body = String), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)))]
async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], s.metrics.render())
}
