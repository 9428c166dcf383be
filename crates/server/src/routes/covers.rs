//! Cover images desks share: a desk uploads the blob a title's
//! `cover_ref` (`cover:<uuid>`) names, other desks fetch it by id. The
//! image is checked from its bytes (JPEG, PNG, WebP, GIF; at most 2 MiB),
//! never from the request's content type.

use super::libraries::InLibrary;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use shelfkeeper_domain::access::Action;
use shelfkeeper_domain::cover::{MAX_COVER_BYTES, sniff};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(put_cover, get_cover)).layer(DefaultBodyLimit::max(MAX_COVER_BYTES + 1))
}

fn cover_id(id: &str) -> ApiResult<String> {
    uuid::Uuid::parse_str(id)
        .map(|u| u.to_string())
        .map_err(|_| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "cover id: a UUID (the part after 'cover:')"))
}

/// Stores the image a title's `cover_ref` names (librarian). 201 when
/// stored, 200 when the same image was there; 409 `cover_conflict` for
/// other bytes under a known id, `cover_quota` past the library's budget.
#[utoipa::path(put, path = "/libraries/{lib}/sync/covers/{id}", tag = "sync", summary = "Upload a cover image by its id (librarian)", params(("lib" = String, Path, description = "library id (UUID)"), ("id" = String, Path, description = "cover id (UUID)")), request_body(content = Vec<u8>, description = "the image: JPEG, PNG, WebP or GIF, at most 2 MiB", content_type = "application/octet-stream"), responses((status = 201, description = "stored"), (status = 200, description = "already stored"), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn put_cover(
    State(s): State<AppState>,
    ctx: InLibrary,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::ManageCatalogue)?;
    let id = cover_id(&id)?;
    let kind = sniff(&body).map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_cover", e.to_string()))?;
    let stored = s.db.put_cover(&ctx.library.id, &id, kind.mime(), &body, &ctx.caller.account_id).await?;
    Ok(if stored { StatusCode::CREATED } else { StatusCode::OK })
}

/// A cover image by id (staff), as stored; it never changes.
#[utoipa::path(get, path = "/libraries/{lib}/sync/covers/{id}", tag = "sync", summary = "Fetch a cover image by its id (librarian)", params(("lib" = String, Path, description = "library id (UUID)"), ("id" = String, Path, description = "cover id (UUID)")), responses((status = 200, description = "the image", content_type = "image/*", body = Vec<u8>), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn get_cover(State(s): State<AppState>, ctx: InLibrary, Path((_, id)): Path<(String, String)>) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::Circulate)?;
    let id = cover_id(&id)?;
    let blob = s.db.cover_blob(&ctx.library.id, &id).await?.ok_or_else(|| ApiError::not_found("cover"))?;
    Ok((
        [
            (header::CONTENT_TYPE, blob.mime),
            (header::CACHE_CONTROL, "private, max-age=31536000, immutable".to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        blob.bytes,
    ))
}
