//! HTTP routes. Handlers convert, check the caller's role, call the db
//! module and the domain rules, and map errors; no SQL here.

pub mod auth;
pub mod catalogue;
pub mod circulation;
pub mod holds;
pub mod libraries;
pub mod ops;

use crate::app::AppState;
use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use std::net::{IpAddr, SocketAddr};

pub fn api() -> Router<AppState> {
    Router::new()
        .merge(auth::routes())
        .merge(libraries::routes())
        .merge(catalogue::routes())
        .merge(circulation::routes())
        .merge(holds::routes())
}

/// The client's address: the peer, or the first `X-Forwarded-For` entry when
/// configured to trust a proxy.
pub struct ClientIp(pub IpAddr);

impl axum::extract::FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if state.cfg.trust_forwarded_for
            && let Some(ip) = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|s| s.trim().parse::<IpAddr>().ok())
        {
            return Ok(ClientIp(ip));
        }
        let ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()).unwrap_or(IpAddr::from([0, 0, 0, 0]));
        Ok(ClientIp(ip))
    }
}

/// Milliseconds since the epoch as RFC 3339, for responses.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)).unwrap_or_default()
}
