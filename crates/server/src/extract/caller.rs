//! Who is calling: a Bearer access token or an `X-API-Key`. Both are checked
//! against the database on every request (session live, key not revoked,
//! account enabled) so logout, revocation and disabling act at once.

use crate::auth::jwt::Claims;
use crate::auth::sha256_hex;
use crate::db::accounts::Account;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use shelfkeeper_domain::access::KeyScopes;
use subtle::ConstantTimeEq;

pub const API_KEY_HEADER: &str = "x-api-key";
/// API keys look like `skk_<12 hex prefix>_<43 chars secret>`.
pub const API_KEY_TAG: &str = "skk";

#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: String,
    /// The login session for token callers; `None` for API keys.
    pub session_id: Option<String>,
    /// What an API key may do besides reading; `None` for a session.
    pub key_scopes: Option<KeyScopes>,
}

impl Caller {
    /// Account management (keys, password, logout) needs a login session:
    /// a leaked API key must not mint more keys or lock the owner out.
    pub fn session(&self) -> Result<&str, ApiError> {
        self.session_id.as_deref().ok_or_else(|| ApiError::forbidden("this needs a signed-in session, not an API key"))
    }
}

/// How the request presents itself: an API key, or a verified access token.
enum Presented<'a> {
    ApiKey(&'a str),
    Token(Claims),
}

fn presented<'a>(parts: &'a Parts, state: &AppState) -> Result<Presented<'a>, ApiError> {
    if let Some(key) = parts.headers.get(API_KEY_HEADER) {
        return key.to_str().map(Presented::ApiKey).map_err(|_| ApiError::unauthorized());
    }
    let Some(auth) = parts.headers.get(axum::http::header::AUTHORIZATION) else { return Err(ApiError::unauthorized()) };
    let auth = auth.to_str().map_err(|_| ApiError::unauthorized())?;
    let token = auth.strip_prefix("Bearer ").or_else(|| auth.strip_prefix("bearer ")).ok_or_else(ApiError::unauthorized)?;
    state.keys.verify(token.trim()).map(Presented::Token).ok_or_else(ApiError::unauthorized)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match presented(parts, state)? {
            Presented::ApiKey(key) => by_api_key(state, key).await,
            Presented::Token(claims) => {
                if !state.db.session_is_live(&claims.sid, &claims.sub).await? {
                    return Err(ApiError::unauthorized());
                }
                Ok(Caller { account_id: claims.sub, session_id: Some(claims.sid), key_scopes: None })
            }
        }
    }
}

/// The caller with their account, checked as `Caller` is; for a token the
/// session check and the account read are one query.
pub struct CallerAccount {
    pub caller: Caller,
    pub account: Account,
}

impl FromRequestParts<AppState> for CallerAccount {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let (caller, account) = match presented(parts, state)? {
            Presented::ApiKey(key) => {
                let caller = by_api_key(state, key).await?;
                let account = state.db.account_by_id(&caller.account_id).await?.filter(|a| !a.disabled);
                (caller, account)
            }
            Presented::Token(claims) => {
                let account = state.db.live_session_account(&claims.sid, &claims.sub).await?;
                (Caller { account_id: claims.sub, session_id: Some(claims.sid), key_scopes: None }, account)
            }
        };
        let account = account.ok_or_else(ApiError::unauthorized)?;
        Ok(CallerAccount { caller, account })
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
    // A stored scope list that no longer reads gives the key nothing beyond
    // reading, never more.
    let key_scopes = KeyScopes::parse(row.scopes.split(',')).unwrap_or_default();
    Ok(Caller { account_id: row.account_id, session_id: None, key_scopes: Some(key_scopes) })
}
