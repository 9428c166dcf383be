//! The one error type of the HTTP layer. Every failure leaves the server as
//! `{ "error": { "code": "snake_case_code", "message": "..." } }` with a
//! fitting status: domain errors keep their `shelfkeeper_domain::ErrorCode`,
//! and the server adds its own codes (unauthorized, rate_limited, ...).
//! Internal details are logged, never sent.

use crate::db::DbError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use shelfkeeper_domain::{Error as DomainError, ErrorCode};

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// Seconds, for 429 and 503 answers.
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
}

/// The error body, for the OpenAPI document (responses use `Body` above).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // read by the schema derive only
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // read by the schema derive only
pub struct ErrorDetail {
    /// Stable snake_case code: a domain `ErrorCode` or a server code.
    code: String,
    /// For people; may change.
    message: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError { status, code: code.to_owned(), message: message.into(), retry_after: None }
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "sign in first: the credentials are missing, expired or revoked")
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// One answer for "does not exist" and "exists but is not yours", so a
    /// caller cannot probe for other libraries' ids.
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("no such {what}"))
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", format!("too many attempts; try again in {retry_after} s"));
        e.retry_after = Some(retry_after.max(1));
        e
    }

    pub fn busy(retry_after: u64) -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "the server is busy; try again shortly");
        e.retry_after = Some(retry_after.max(1));
        e
    }

    /// Logs the cause and answers a generic 500.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "something went wrong on the server; it has been logged")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body { error: Inner { code: &self.code, message: &self.message } };
        let mut res = (self.status, axum::Json(body)).into_response();
        if let Some(s) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        use ErrorCode as C;
        let code = e.code();
        let status = match code {
            C::InvalidIsbn | C::IsbnChecksum | C::Invalid | C::InvalidCover | C::WeakPassword | C::RatingOutOfRange => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            C::TitleNotFound | C::CopyNotFound | C::MemberNotFound | C::MemberTypeNotFound | C::HoldNotFound | C::AccountNotFound => {
                StatusCode::NOT_FOUND
            }
            C::InvalidCredentials => StatusCode::UNAUTHORIZED,
            C::PermissionDenied | C::AccountDisabled => StatusCode::FORBIDDEN,
            C::StoreBusy => StatusCode::SERVICE_UNAVAILABLE,
            C::Storage | C::StoreOpen | C::StoreTooNew | C::Backup | C::Cancelled => {
                return ApiError::internal(e);
            }
            _ => StatusCode::CONFLICT,
        };
        ApiError::new(status, &code.to_string(), e.to_string())
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        // Lost a race for the write lock (SQLite BUSY/LOCKED/BUSY_SNAPSHOT,
        // PostgreSQL serialization failure or deadlock): retryable, not a bug.
        if let sqlx::Error::Database(d) = &e
            && matches!(d.code().as_deref(), Some("5" | "6" | "517" | "40001" | "40P01"))
        {
            tracing::warn!(error = %e, "write conflict; the client may retry");
            return ApiError::busy(1);
        }
        ApiError::internal(format!("database: {e}"))
    }
}

/// Storage failures, answered as they always were: 404 `not_found`, 409
/// with the conflict's code, 403 `forbidden`, the domain's code, and the
/// database's own errors as `From<sqlx::Error>` maps them (a lost write
/// race is a retryable 503, anything else a logged 500).
impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound(what) => ApiError::not_found(what),
            DbError::Conflict { code, message } => ApiError::new(StatusCode::CONFLICT, code, message),
            DbError::NotPermitted(message) => ApiError::forbidden(message),
            DbError::Domain(e) => e.into(),
            DbError::Internal(cause) => ApiError::internal(cause),
            DbError::Sqlx(e) => e.into(),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => {
                // serde's message names the field and what was expected.
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", format!("the JSON body does not fit: {}", e.body_text()))
            }
            JsonRejection::JsonSyntaxError(e) => {
                ApiError::bad_request("bad_json", format!("the body is not valid JSON: {}", e.body_text()))
            }
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => payload_too_large(),
            other => ApiError::bad_request("bad_request", other.body_text()),
        }
    }
}

pub fn payload_too_large() -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "the request body is too large")
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        // A malformed id cannot name anything that exists.
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no such resource: {}", r.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::bad_request("bad_query", format!("the query string does not fit: {}", r.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(e: DbError) -> (StatusCode, String, String) {
        let a = ApiError::from(e);
        (a.status, a.code, a.message)
    }

    #[test]
    fn storage_errors_keep_their_answers() {
        let s = |x: &str| x.to_owned();
        assert_eq!(answer(DbError::NotFound("title")), (StatusCode::NOT_FOUND, s("not_found"), s("no such title")));
        assert_eq!(
            answer(DbError::Conflict { code: "copy_on_loan", message: s("copy X1 was just lent at another desk") }),
            (StatusCode::CONFLICT, s("copy_on_loan"), s("copy X1 was just lent at another desk"))
        );
        assert_eq!(answer(DbError::NotPermitted("not yours")), (StatusCode::FORBIDDEN, s("forbidden"), s("not yours")));
        let domain = DomainError::CopyNotOnLoan("X1".into());
        let (status, code, message) = answer(DbError::Domain(domain.clone()));
        assert_eq!((status, code, message), (StatusCode::CONFLICT, domain.code().to_string(), domain.to_string()));
        let internal = answer(DbError::vanished("loan"));
        assert_eq!((internal.0, internal.1.as_str()), (StatusCode::INTERNAL_SERVER_ERROR, "internal"));
        assert!(!internal.2.contains("loan"), "internal causes are logged, not sent");
        let sqlx = answer(DbError::Sqlx(sqlx::Error::PoolTimedOut));
        assert_eq!((sqlx.0, sqlx.1.as_str()), (StatusCode::INTERNAL_SERVER_ERROR, "internal"));
    }
}
