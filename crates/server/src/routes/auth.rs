//! `/api/v1/auth/...`: registration with email verification, login,
//! refresh, logout, me, password change and reset, API keys.

use super::ClientIp;
use crate::auth::{normalise_email, random_hex, random_token, sha256_hex};
use crate::db::accounts::Purpose;
use crate::db::sessions::Rotation;
use crate::error::{ApiError, ApiResult};
use crate::extract::{API_KEY_TAG, Caller, CallerAccount, Json, Path, Query};
use crate::state::AppState;
use crate::time::rfc3339;
use axum::Json as JsonOut;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use serde_json::json;
use shelfkeeper_domain::access::KeyScopes;
use shelfkeeper_domain::password;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const HOUR: Duration = Duration::from_secs(3600);
const MINUTE: Duration = Duration::from_secs(60);

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(verify_email))
        .routes(routes!(resend_verification))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(request_reset))
        .routes(routes!(confirm_reset))
        .routes(routes!(create_api_key, list_api_keys))
        .routes(routes!(revoke_api_key))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Register {
    email: String,
    password: String,
    #[serde(default)]
    display_name: Option<String>,
}

fn accepted(message: &str) -> impl IntoResponse {
    (StatusCode::ACCEPTED, JsonOut(json!({ "status": "accepted", "message": message })))
}

fn invalid_email() -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "email: not an email address")
}

fn check_display_name(name: &str) -> ApiResult<()> {
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "display_name: at most 100 characters, no control characters",
        ));
    }
    Ok(())
}

/// Always 202 "check your mail": a taken address gets a mail saying so
/// instead of a verification link, so the answer tells nothing.
#[utoipa::path(post, path = "/auth/register", tag = "auth", summary = "Register; mails a single-use verification link (always 202)", request_body = Register, responses((status = 202, description = "check the mail", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)))]
async fn register(State(s): State<AppState>, ClientIp(ip): ClientIp, Json(body): Json<Register>) -> ApiResult<impl IntoResponse> {
    let email = normalise_email(&body.email).ok_or_else(invalid_email)?;
    let name = body.display_name.unwrap_or_default().trim().to_owned();
    check_display_name(&name)?;
    password::check_policy(&body.password, &email)?;
    let lim = &s.cfg.limits;
    s.limiter.hit(&format!("mail-ip:{ip}"), lim.reset_requests_per_ip_per_hour, HOUR).map_err(|l| ApiError::rate_limited(l.0))?;
    let hash = s.hasher.hash(body.password).await?;
    let id = shelfkeeper_domain::ids::AccountId::new().to_string();
    if s.db.insert_account(&id, &email, &name, &hash).await? {
        send_verification(&s, &id, &email).await?;
    } else {
        s.mailer.send(
            &email,
            "Your Shelfkeeper account",
            "Someone (perhaps you) tried to sign up with this address, which already has an account.\n\nIf you forgot your password, ask for a reset instead.\n".to_owned(),
        );
    }
    Ok(accepted("check your mail for a link to confirm the address"))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct TokenQuery {
    token: String,
}

#[utoipa::path(get, path = "/auth/verify-email", tag = "auth", summary = "Follow the verification link", params(TokenQuery), responses((status = 200, description = "verified", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)))]
async fn verify_email(State(s): State<AppState>, Query(q): Query<TokenQuery>) -> ApiResult<impl IntoResponse> {
    let signed = s.links.check("verify_email", &q.token);
    let consumed = if signed { s.db.consume_email_token(&sha256_hex(&q.token), Purpose::VerifyEmail).await? } else { None };
    let Some(account_id) = consumed else {
        return Err(ApiError::bad_request("invalid_token", "this link is invalid, already used or expired"));
    };
    s.db.mark_email_verified(&account_id).await?;
    Ok(JsonOut(json!({ "status": "verified" })))
}

#[utoipa::path(post, path = "/auth/verify-email/resend", tag = "auth", summary = "Mail a new verification link to an unverified account (always 202)", request_body = ResetRequest, responses((status = 202, description = "accepted", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)))]
/// Always 202; a new link goes out only to an existing, unverified account
/// (older links stay valid until they expire).
async fn resend_verification(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<ResetRequest>,
) -> ApiResult<impl IntoResponse> {
    let email = normalise_email(&body.email).ok_or_else(invalid_email)?;
    let lim = &s.cfg.limits;
    s.limiter.hit(&format!("mail-ip:{ip}"), lim.reset_requests_per_ip_per_hour, HOUR).map_err(|l| ApiError::rate_limited(l.0))?;
    s.limiter.hit(&format!("verify:{email}"), lim.reset_requests_per_account_per_hour, HOUR).map_err(|l| ApiError::rate_limited(l.0))?;
    if let Some(a) = s.db.account_by_email(&email).await?.filter(|a| !a.disabled && !a.email_verified) {
        send_verification(&s, &a.id, &email).await?;
    }
    Ok(accepted("if the address has an unconfirmed account, a new link is on its way"))
}

async fn send_verification(s: &AppState, account_id: &str, email: &str) -> ApiResult<()> {
    let token = s.links.issue("verify_email", s.cfg.email_token_ttl_secs);
    s.db.insert_email_token(&sha256_hex(&token), account_id, Purpose::VerifyEmail, s.cfg.email_token_ttl_secs as i64 * 1000).await?;
    let link = format!("{}/api/v1/auth/verify-email?token={token}", s.cfg.public_url.trim_end_matches('/'));
    let hours = s.cfg.email_token_ttl_secs.div_ceil(3600);
    s.mailer.send(
        email,
        "Confirm your Shelfkeeper account",
        format!("Welcome to Shelfkeeper.\n\nOpen this link to confirm your address (it works once, for {hours} hours):\n\n{link}\n\nIf you did not sign up, ignore this message.\n"),
    );
    Ok(())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Login {
    email: String,
    password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Tokens {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    refresh_token: String,
}

fn tokens(s: &AppState, account_id: &str, session_id: &str, refresh_token: String) -> ApiResult<Tokens> {
    let access_token = s.keys.issue(account_id, session_id).map_err(ApiError::internal)?;
    Ok(Tokens { access_token, token_type: "Bearer", expires_in: s.keys.ttl_secs, refresh_token })
}

fn bad_credentials() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", "wrong email or password")
}

/// Unknown account and wrong password answer the same, in about the same
/// time (the unknown case runs a dummy verification).
#[utoipa::path(post, path = "/auth/login", tag = "auth", summary = "Log in: access token (JWT, 15 min) and rotating refresh token", request_body = Login, responses((status = 200, description = "tokens", body = Tokens), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)))]
async fn login(State(s): State<AppState>, ClientIp(ip): ClientIp, Json(body): Json<Login>) -> ApiResult<impl IntoResponse> {
    let lim = &s.cfg.limits;
    s.limiter.hit(&format!("login-ip:{ip}"), lim.login_attempts_per_ip_per_minute, MINUTE).map_err(|l| ApiError::rate_limited(l.0))?;
    // Not an email (over 254 bytes, or not an address): no account can
    // have it, and no limiter keeps a key for it.
    let Some(email) = normalise_email(&body.email) else { return Err(bad_credentials()) };
    let fail_key = format!("login-fail:{email}");
    s.limiter.check(&fail_key, lim.login_failures_per_account_per_hour, HOUR).map_err(|l| ApiError::rate_limited(l.0))?;
    if body.password.len() > password::MAX_LEN * 4 {
        // Longer than any acceptable password: refuse before hashing it.
        s.limiter.record(&fail_key);
        return Err(bad_credentials());
    }
    let account = s.db.account_by_email(&email).await?;
    let ok = match &account {
        Some(a) => s.hasher.verify(body.password, a.password_hash.clone()).await?,
        None => {
            s.hasher.verify_dummy(body.password).await?;
            false
        }
    };
    let Some(account) = account.filter(|_| ok) else {
        s.limiter.record(&fail_key);
        metrics::counter!("shelfkeeper_login_failures_total").increment(1);
        return Err(bad_credentials());
    };
    if account.disabled {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "account_disabled", "this account is disabled"));
    }
    if !account.email_verified {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "email_not_verified",
            "confirm your address first: follow the link in the mail we sent",
        ));
    }
    let session_id = uuid::Uuid::now_v7().to_string();
    let refresh = random_token();
    s.db.create_session(&session_id, &account.id, &sha256_hex(&refresh), s.cfg.refresh_token_ttl_secs as i64 * 1000).await?;
    Ok(JsonOut(tokens(&s, &account.id, &session_id, refresh)?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Refresh {
    refresh_token: String,
}

#[utoipa::path(post, path = "/auth/refresh", tag = "auth", summary = "Exchange a refresh token (reuse revokes the session)", request_body = Refresh, responses((status = 200, description = "new tokens", body = Tokens), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)))]
async fn refresh(State(s): State<AppState>, Json(body): Json<Refresh>) -> ApiResult<impl IntoResponse> {
    let new = random_token();
    match s.db.rotate_refresh(&sha256_hex(&body.refresh_token), &sha256_hex(&new)).await? {
        Rotation::Rotated { session_id, account_id } => Ok(JsonOut(tokens(&s, &account_id, &session_id, new)?)),
        Rotation::Reused => {
            tracing::warn!("a rotated refresh token was presented again; its session is revoked");
            metrics::counter!("shelfkeeper_refresh_reuse_total").increment(1);
            Err(ApiError::new(StatusCode::UNAUTHORIZED, "invalid_refresh_token", "this refresh token was already used; sign in again"))
        }
        Rotation::Invalid => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_refresh_token",
            "this refresh token is invalid, expired or revoked; sign in again",
        )),
    }
}

#[utoipa::path(post, path = "/auth/logout", tag = "auth", summary = "End this session at once", responses((status = 204, description = "logged out"), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn logout(State(s): State<AppState>, caller: Caller) -> ApiResult<impl IntoResponse> {
    let sid = caller.session()?;
    s.db.revoke_session(sid, "logout").await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
struct Me {
    id: String,
    email: String,
    display_name: String,
    email_verified: bool,
    created_at: String,
}

#[utoipa::path(get, path = "/auth/me", tag = "auth", summary = "The calling account", responses((status = 200, description = "the account", body = Me), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn me(CallerAccount { account: a, .. }: CallerAccount) -> ApiResult<impl IntoResponse> {
    Ok(JsonOut(Me {
        id: a.id,
        email: a.email,
        display_name: a.display_name,
        email_verified: a.email_verified,
        created_at: rfc3339(a.created_at),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ChangePassword {
    current_password: String,
    new_password: String,
}

/// Needs the current password; signs out every other session.
#[utoipa::path(post, path = "/auth/password", tag = "auth", summary = "Change password; ends the other sessions", request_body = ChangePassword, responses((status = 204, description = "changed"), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn change_password(State(s): State<AppState>, caller: Caller, Json(body): Json<ChangePassword>) -> ApiResult<impl IntoResponse> {
    let sid = caller.session()?.to_owned();
    let a = s.db.account_by_id(&caller.account_id).await?.ok_or_else(ApiError::unauthorized)?;
    let fail_key = format!("login-fail:{}", a.email);
    s.limiter.check(&fail_key, s.cfg.limits.login_failures_per_account_per_hour, HOUR).map_err(|l| ApiError::rate_limited(l.0))?;
    password::check_policy(&body.new_password, &a.email)?;
    if body.current_password.len() > password::MAX_LEN * 4 || !s.hasher.verify(body.current_password, a.password_hash.clone()).await? {
        s.limiter.record(&fail_key);
        return Err(ApiError::new(StatusCode::FORBIDDEN, "invalid_credentials", "the current password is wrong"));
    }
    let hash = s.hasher.hash(body.new_password).await?;
    s.db.replace_password(&a.id, &hash, Some(&sid), "password changed", None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ResetRequest {
    email: String,
}

/// Always 202; a link goes out only to an existing, enabled account.
#[utoipa::path(post, path = "/auth/password-reset", tag = "auth", summary = "Mail a single-use reset link (always 202)", request_body = ResetRequest, responses((status = 202, description = "accepted", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)))]
async fn request_reset(State(s): State<AppState>, ClientIp(ip): ClientIp, Json(body): Json<ResetRequest>) -> ApiResult<impl IntoResponse> {
    let email = normalise_email(&body.email).ok_or_else(invalid_email)?;
    let lim = &s.cfg.limits;
    s.limiter.hit(&format!("mail-ip:{ip}"), lim.reset_requests_per_ip_per_hour, HOUR).map_err(|l| ApiError::rate_limited(l.0))?;
    s.limiter.hit(&format!("reset:{email}"), lim.reset_requests_per_account_per_hour, HOUR).map_err(|l| ApiError::rate_limited(l.0))?;
    if let Some(a) = s.db.account_by_email(&email).await?.filter(|a| !a.disabled) {
        s.db.void_email_tokens(&a.id, Purpose::ResetPassword).await?;
        let ttl = s.cfg.email_token_ttl_secs.min(3600);
        let token = s.links.issue("reset_password", ttl);
        s.db.insert_email_token(&sha256_hex(&token), &a.id, Purpose::ResetPassword, ttl as i64 * 1000).await?;
        let link = format!("{}/reset-password?token={token}", s.cfg.public_url.trim_end_matches('/'));
        s.mailer.send(
            &email,
            "Reset your Shelfkeeper password",
            format!(
                "Someone asked to reset the password of this account.\n\nThe link works once, for {} minutes:\n\n{link}\n\nIf it was not you, ignore this message; your password is unchanged.\n",
                ttl / 60
            ),
        );
    }
    Ok(accepted("if the address has an account, a reset link is on its way"))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ResetConfirm {
    token: String,
    new_password: String,
}

/// Sets the new password and signs out every session.
#[utoipa::path(post, path = "/auth/password-reset/confirm", tag = "auth", summary = "Set a new password with a reset token; ends every session", request_body = ResetConfirm, responses((status = 204, description = "changed"), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)))]
async fn confirm_reset(State(s): State<AppState>, Json(body): Json<ResetConfirm>) -> ApiResult<impl IntoResponse> {
    // Policy first, so a weak choice does not burn the single-use link.
    password::check_policy(&body.new_password, "")?;
    let invalid = || ApiError::bad_request("invalid_token", "this reset link is invalid, already used or expired");
    let token_hash = sha256_hex(&body.token);
    let signed = s.links.check("reset_password", &body.token);
    let found = if signed { s.db.peek_email_token(&token_hash, Purpose::ResetPassword).await? } else { None };
    let Some(account_id) = found else { return Err(invalid()) };
    let a = s.db.account_by_id(&account_id).await?.ok_or_else(|| ApiError::internal("reset token without account"))?;
    // Checked before the link is spent: a refused password keeps it usable.
    password::check_policy(&body.new_password, &a.email)?;
    let hash = s.hasher.hash(body.new_password).await?;
    // Spends the link (following it proved the address), sets the
    // password, ends every session and revokes every API key, at once.
    if !s.db.replace_password(&a.id, &hash, None, "password reset", Some(&token_hash)).await? {
        return Err(invalid());
    }
    s.limiter.clear(&format!("login-fail:{}", a.email));
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewKey {
    name: String,
    /// What the key may do besides reading: any of `read`, `circulation`,
    /// `catalogue` (default: `read` only). No key manages accounts,
    /// memberships, keys, passwords or loan rules.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>, example = json!(["read", "circulation"]))]
    scopes: Option<Vec<String>>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct KeyOut {
    id: String,
    name: String,
    prefix: String,
    created_at: String,
    last_used_at: Option<String>,
    /// What the key may do: `read`, and `circulation` and `catalogue` if given.
    scopes: Vec<String>,
    /// Only in the answer to create: the key is not stored and cannot be shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
}

#[utoipa::path(post, path = "/auth/api-keys", tag = "auth", summary = "Create an API key (shown once)", request_body = NewKey, responses((status = 201, description = "the key, with its secret", body = KeyOut), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn create_api_key(State(s): State<AppState>, caller: Caller, Json(body): Json<NewKey>) -> ApiResult<impl IntoResponse> {
    caller.session()?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "name: 1 to 100 characters, no control characters"));
    }
    let requested = body.scopes.as_deref().unwrap_or_default();
    if requested.len() > KeyScopes::NAMES.len() * 2 {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "scopes: at most read, circulation and catalogue"));
    }
    let scopes = KeyScopes::parse(requested.iter().map(String::as_str))
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", format!("scopes: {e}")))?
        .names();
    let prefix = random_hex(6);
    let key = format!("{API_KEY_TAG}_{prefix}_{}", random_token());
    let id = uuid::Uuid::now_v7().to_string();
    let created = s.db.insert_api_key(&id, &caller.account_id, name, &prefix, &sha256_hex(&key), &scopes.join(",")).await?;
    let scopes = scopes.into_iter().map(str::to_owned).collect();
    let out = KeyOut { id, name: name.to_owned(), prefix, created_at: rfc3339(created), last_used_at: None, scopes, key: Some(key) };
    Ok((StatusCode::CREATED, JsonOut(out)))
}

#[utoipa::path(get, path = "/auth/api-keys", tag = "auth", summary = "List live API keys (without secrets)", responses((status = 200, description = "`{items: [KeyOut]}`", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn list_api_keys(State(s): State<AppState>, caller: Caller) -> ApiResult<impl IntoResponse> {
    caller.session()?;
    let keys = s.db.list_api_keys(&caller.account_id).await?;
    let out: Vec<KeyOut> = keys
        .into_iter()
        .map(|k| KeyOut {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            created_at: rfc3339(k.created_at),
            last_used_at: k.last_used_at.map(rfc3339),
            scopes: k.scopes.split(',').map(str::to_owned).collect(),
            key: None,
        })
        .collect();
    Ok(JsonOut(json!({ "items": out })))
}

#[utoipa::path(delete, path = "/auth/api-keys/{id}", tag = "auth", summary = "Revoke an API key", params(("id" = String, Path, description = "API key id (UUID)")), responses((status = 204, description = "revoked"), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn revoke_api_key(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<impl IntoResponse> {
    caller.session()?;
    if uuid::Uuid::parse_str(&id).is_err() || !s.db.revoke_api_key(&caller.account_id, &id).await? {
        return Err(ApiError::not_found("API key"));
    }
    Ok(StatusCode::NO_CONTENT)
}
