//! Extractors whose rejections are `ApiError`s, so a malformed body, path
//! or query gets the JSON error shape and a 4xx — never axum's plain text;
//! and `Caller`, who is calling, which every protected route takes.

mod caller;

pub use caller::{API_KEY_HEADER, API_KEY_TAG, Caller, CallerAccount};

use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A JSON body. Parsed to a value first so that text with NUL characters
/// (which PostgreSQL cannot store and no field needs) is refused for every
/// route alike, then converted to `T`.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(v) = axum::Json::<Value>::from_request(req, state).await?;
        if has_nul(&v) {
            return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "text must not contain NUL characters"));
        }
        serde_json::from_value(v)
            .map(Json)
            .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", format!("the JSON body does not fit: {e}")))
    }
}

fn has_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(a) => a.iter().any(has_nul),
        Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);
