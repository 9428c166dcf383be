//! Operations: liveness/readiness and Prometheus metrics.

use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;
use subtle::ConstantTimeEq;
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

/// Prometheus metrics, for the scraper that holds the configured
/// `metrics_token` (`Authorization: Bearer …`); off when none is set.
#[utoipa::path(get, path = "/metrics", tag = "operations", summary = "Prometheus metrics (text; `Authorization: Bearer <metrics_token>`)", responses((status = 200, description = "Prometheus text format", body = String), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}` (401 without the metrics token, 404 when metrics are off)", body = crate::error::ErrorBody)))]
async fn metrics(State(s): State<AppState>, headers: HeaderMap) -> Result<impl IntoResponse, ApiError> {
    let want = s.cfg.metrics_token.as_bytes();
    if want.is_empty() {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "metrics are off: set metrics_token in the server's configuration"));
    }
    let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
    if !bool::from(given.as_bytes().ct_eq(want)) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "metrics need the metrics token: Authorization: Bearer <metrics_token>",
        ));
    }
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], s.metrics.render()))
}
