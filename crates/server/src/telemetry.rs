//! Logs, request ids and metrics. Each request gets an `x-request-id`
//! (kept if the client sent one), which every log line of the request
//! carries and the response echoes. Metrics are Prometheus text at `/metrics`.

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;
use tower_http::LatencyUnit;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::config::LogFormat;

/// Installs the log subscriber (`RUST_LOG` filters; default `info`).
pub fn init_logs(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let b = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Json => b.json().flatten_event(true).try_init(),
        LogFormat::Text => b.try_init(),
    };
}

/// The process-wide Prometheus recorder (one per process: tests start many
/// servers in one process and share it).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0])
                .expect("static buckets are valid")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (a test harness); the
            // handle still renders this one's metrics, which then stay empty.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

pub fn apply<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    // One INFO line per response (status, latency) inside the request's
    // span, so every line of a request names its id.
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &Request| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
        })
        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(LatencyUnit::Millis));
    // Order (outermost first): set the id, open the span, echo the id.
    router
        .layer(axum::middleware::from_fn(record_metrics))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(trace)
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

async fn record_metrics(req: Request, next: Next) -> Response {
    // The route template, not the raw path, so ids do not explode the label set.
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let started = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    metrics::counter!("shelfkeeper_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("shelfkeeper_http_request_seconds", "method" => method, "route" => route).record(started.elapsed().as_secs_f64());
    res
}
