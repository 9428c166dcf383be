//! Who is calling: a Bearer access token or an `X-API-Key`. Both are checked
//! against the database on every request (session live, key not revoked,
//! account enabled) so logout, revocation and disabling act at once.

use crate::app::AppState;
use crate::auth::sha256_hex;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use subtle::ConstantTimeEq;

pub const API_KEY_HEADER: &str = "x-api-key";
/// API keys look like `skk_<12 hex prefix>_<43 chars secret>`.
pub const API_KEY_TAG: &str = "skk";

#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: String,
    /// The login session for token callers; `None` for API keys.
    pub session_id: Option<String>,
}

impl Caller {
    /// Account management (keys, password, logout) needs a login session:
    /// a leaked API key must not mint more keys or lock the owner out.
    pub fn session(&self) -> Result<&str, ApiError> {
        self.session_id.as_deref().ok_or_else(|| ApiError::forbidden("this needs a signed-in session, not an API key"))
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(key) = parts.headers.get(API_KEY_HEADER) {
            let key = key.to_str().map_err(|_| ApiError::unauthorized())?;
            return by_api_key(state, key).await;
        }
        let Some(auth) = parts.headers.get(axum::http::header::AUTHORIZATION) else { return Err(ApiError::unauthorized()) };
        let auth = auth.to_str().map_err(|_| ApiError::unauthorized())?;
        let token = auth.strip_prefix("Bearer ").or_else(|| auth.strip_prefix("bearer ")).ok_or_else(ApiError::unauthorized)?;
        let claims = state.keys.verify(token.trim()).ok_or_else(ApiError::unauthorized)?;
        if !state.db.session_is_live(&claims.sid, &claims.sub).await? {
            return Err(ApiError::unauthorized());
        }
        Ok(Caller { account_id: claims.sub, session_id: Some(claims.sid) })
    }
}

async fn by_api_key(state: &AppState, key: &str) -> Result<Caller, ApiError> {
    let mut parts = key.splitn(3, '_');
    let (Some(API_KEY_TAG), Some(prefix), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(ApiError::unauthorized());
    };
    let Some(row) = state.db.api_key_by_prefix(prefix).await? else { return Err(ApiError::unauthorized()) };
    let presented = sha256_hex(key);
    if !bool::from(presented.as_bytes().ct_eq(row.key_hash.as_bytes())) {
        return Err(ApiError::unauthorized());
    }
    state.db.touch_api_key(&row.id).await?;
    Ok(Caller { account_id: row.account_id, session_id: None })
}
