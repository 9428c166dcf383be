//! HTTP routes. Handlers convert, check the caller's role, call the db
//! module and the domain rules, and map errors; no SQL here.

pub mod auth;
pub mod catalogue;
pub mod circulation;
pub mod covers;
pub mod holds;
pub mod libraries;
pub mod ops;
pub mod sync;

use crate::state::AppState;
use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use std::net::{IpAddr, SocketAddr};
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::routes())
        .merge(libraries::routes())
        .merge(catalogue::routes())
        .merge(circulation::routes())
        .merge(holds::routes())
        .merge(sync::routes())
        .merge(covers::routes())
}

/// The OpenAPI document's frame; the paths come from the handlers'
/// `#[utoipa::path]` attributes as they are registered (`routes!`), so a
/// route cannot exist without its documentation.
#[derive(OpenApi)]
#[openapi(
    info(title = "Shelfkeeper server API", description = "Accounts, libraries, catalogue and circulation. Errors are `{\"error\": {\"code\", \"message\"}}`."),
    modifiers(&Security),
    components(schemas(crate::error::ErrorBody))
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let c = api.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
        c.add_security_scheme("api_key", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))));
    }
}

/// All routes with their OpenAPI document.
pub fn all() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi()).nest("/api/v1", api()).merge(ops::routes()).split_for_parts()
}

/// The OpenAPI document as checked in (`crates/server/openapi.json`).
pub fn openapi_json() -> String {
    let (_, spec) = all();
    let mut s = spec.to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}

/// The client's address as rate limits count it: the peer, or behind a
/// trusted proxy the rightmost `X-Forwarded-For` hop that is not one
/// (`net::client_address`); IPv6 by its /64 (`net::limit_bucket`).
pub struct ClientIp(pub IpAddr);

impl axum::extract::FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()).unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let forwarded: Vec<&str> = parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
        let client = crate::net::client_address(peer, &forwarded, &state.cfg.trusted_proxies);
        Ok(ClientIp(crate::net::limit_bucket(client)))
    }
}
