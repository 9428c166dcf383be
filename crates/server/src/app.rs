//! The application: the router with its middleware, and serving with
//! graceful shutdown. The root of the module graph: nothing depends on it.

use crate::error::ApiError;
use crate::state::AppState;
use crate::{routes, telemetry};
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use std::net::SocketAddr;
use std::time::Duration;

pub fn router(state: AppState) -> axum::Router {
    let max_body = state.cfg.max_body_bytes;
    let (routes, spec) = routes::all();
    let spec = std::sync::Arc::new(spec);
    let app = routes
        .route("/api/v1/openapi.json", axum::routing::get(move || async move { axum::Json(spec.as_ref().clone()) }))
        .fallback(|| async { ApiError::not_found("route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take that method")
        })
        .layer(DefaultBodyLimit::max(max_body))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            ApiError::internal("a handler panicked").into_response()
        }));
    telemetry::apply(app).with_state(state)
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Hourly housekeeping: ended sessions and spent email tokens; holds
    // whose copy waited on the hold shelf past its pickup date.
    let db = state.db.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every.tick().await;
            match db.purge_expired().await {
                Ok(n) if n > 0 => tracing::info!(rows = n, "purged ended sessions and spent tokens"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purging ended sessions failed"),
            }
            match db.sweep_uncollected_holds(chrono::Utc::now().date_naive()).await {
                Ok(n) if n > 0 => tracing::info!(holds = n, "expired uncollected holds"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "sweeping the hold shelf failed"),
            }
        }
    });
    // Pulls waiting for changes answer at once when the server stops, so
    // the graceful shutdown does not wait out their long polls.
    let bell = state.db.feed_bell.clone();
    let shutdown = async move {
        shutdown.await;
        bell.close();
    };
    let app = router(state);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown).await
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}
