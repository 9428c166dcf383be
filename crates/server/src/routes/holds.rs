//! Holds and reviews in a library. A member places and cancels their own
//! holds (staff may for any member) and writes one review per title.

use super::circulation::{actor, today};
use super::libraries::InLibrary;
use crate::db::holds::{HoldRow, ReviewRow};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};
use crate::state::AppState;
use axum::Json as JsonOut;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;
use shelfkeeper_domain::access::Action;
use shelfkeeper_domain::ids::MemberId;
use shelfkeeper_domain::text;
use std::collections::HashMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(place, queue))
        .routes(routes!(cancel))
        .routes(routes!(mine))
        .routes(routes!(reviews))
        .routes(routes!(put_review, delete_review))
}

fn id(p: &HashMap<String, String>, name: &str, what: &str) -> ApiResult<String> {
    p.get(name).filter(|v| uuid::Uuid::parse_str(v).is_ok()).cloned().ok_or_else(|| ApiError::not_found(what))
}

fn no_member_record() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "no_member_record",
        "your account has no member record in this library; ask a librarian to link one",
    )
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
struct PlaceIn {
    /// Staff only: place the hold for this card.
    card: Option<String>,
}

#[utoipa::path(post, path = "/libraries/{lib}/titles/{title_id}/holds", tag = "holds", summary = "Place a hold (own; staff may give a card)", params(("lib" = String, Path, description = "library id (UUID)"), ("title_id" = String, Path, description = "title id (UUID)")), request_body = PlaceIn, responses((status = 201, description = "the hold", body = HoldRow), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn place(
    State(s): State<AppState>,
    ctx: InLibrary,
    Path(p): Path<HashMap<String, String>>,
    Json(b): Json<PlaceIn>,
) -> ApiResult<impl IntoResponse> {
    let title_id = id(&p, "title_id", "title")?;
    let member_id = match b.card {
        Some(card) => {
            ctx.require(Action::Circulate)?;
            let card = text::barcode("card", &card)?;
            s.db.member_by_card(&ctx.library.id, &card).await?.map(|m| m.id).ok_or(shelfkeeper_domain::Error::MemberNotFound(card))?
        }
        None => actor(&s, &ctx).await?.1.map(|m| m.id).ok_or_else(no_member_record)?,
    };
    let h = s.db.place_hold(&ctx.library.id, &title_id, &member_id, today()).await?;
    Ok((StatusCode::CREATED, JsonOut(h)))
}

#[utoipa::path(get, path = "/libraries/{lib}/titles/{title_id}/holds", tag = "holds", summary = "The active holds on a title, in order (librarian)", params(("lib" = String, Path, description = "library id (UUID)"), ("title_id" = String, Path, description = "title id (UUID)")), responses((status = 200, description = "`{items: [hold]}`", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn queue(State(s): State<AppState>, ctx: InLibrary, Path(p): Path<HashMap<String, String>>) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::Circulate)?;
    let title_id = id(&p, "title_id", "title")?;
    Ok(JsonOut(json!({ "items": s.db.holds_of_title(&ctx.library.id, &title_id).await? })))
}

#[utoipa::path(get, path = "/libraries/{lib}/me/holds", tag = "holds", summary = "The caller's own holds", params(("lib" = String, Path, description = "library id (UUID)")), responses((status = 200, description = "`{items: [hold]}`", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn mine(State(s): State<AppState>, ctx: InLibrary) -> ApiResult<impl IntoResponse> {
    let items = match actor(&s, &ctx).await?.1 {
        Some(m) => s.db.holds_of_member(&ctx.library.id, &m.id).await?,
        None => Vec::new(),
    };
    Ok(JsonOut(json!({ "items": items })))
}

/// The member cancels their own hold; staff cancel any. Others' holds are
/// not confirmed to exist.
#[utoipa::path(delete, path = "/libraries/{lib}/holds/{hold_id}", tag = "holds", summary = "Cancel a hold (own, or staff)", params(("lib" = String, Path, description = "library id (UUID)"), ("hold_id" = String, Path, description = "hold id (UUID)")), responses((status = 200, description = "the cancelled hold", body = HoldRow), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn cancel(State(s): State<AppState>, ctx: InLibrary, Path(p): Path<HashMap<String, String>>) -> ApiResult<impl IntoResponse> {
    let hold_id = id(&p, "hold_id", "hold")?;
    let hold = s.db.hold(&ctx.library.id, &hold_id).await?.ok_or_else(|| ApiError::not_found("hold"))?;
    let (actor, _) = actor(&s, &ctx).await?;
    let owner = MemberId(uuid::Uuid::parse_str(&hold.member_id).unwrap_or_default());
    if actor.require(Action::ActAsMember(owner)).is_err() {
        return Err(ApiError::not_found("hold"));
    }
    Ok(JsonOut(s.db.cancel_hold(&ctx.library.id, &hold_id, today()).await?))
}

#[utoipa::path(get, path = "/libraries/{lib}/titles/{title_id}/reviews", tag = "reviews", summary = "Reviews of a title", params(("lib" = String, Path, description = "library id (UUID)"), ("title_id" = String, Path, description = "title id (UUID)")), responses((status = 200, description = "`{items: [review]}`", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn reviews(State(s): State<AppState>, ctx: InLibrary, Path(p): Path<HashMap<String, String>>) -> ApiResult<impl IntoResponse> {
    let title_id = id(&p, "title_id", "title")?;
    if s.db.title(&ctx.library.id, &title_id).await?.is_none() {
        return Err(ApiError::not_found("title"));
    }
    Ok(JsonOut(json!({ "items": s.db.reviews(&ctx.library.id, &title_id).await? })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ReviewIn {
    rating: i64,
    #[serde(default)]
    body: Option<String>,
}

/// Creates or replaces the caller's review: one per account and title.
#[utoipa::path(put, path = "/libraries/{lib}/titles/{title_id}/review", tag = "reviews", summary = "Write or replace the caller's review (one per title)", params(("lib" = String, Path, description = "library id (UUID)"), ("title_id" = String, Path, description = "title id (UUID)")), request_body = ReviewIn, responses((status = 200, description = "the review", body = ReviewRow), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn put_review(
    State(s): State<AppState>,
    ctx: InLibrary,
    Path(p): Path<HashMap<String, String>>,
    Json(b): Json<ReviewIn>,
) -> ApiResult<impl IntoResponse> {
    let title_id = id(&p, "title_id", "title")?;
    let body = b.body.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if body.is_some_and(|s| s.chars().count() > 10_000) {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "body: at most 10,000 characters"));
    }
    Ok(JsonOut(s.db.put_review(&ctx.library.id, &title_id, &ctx.caller.account_id, b.rating, body).await?))
}

#[utoipa::path(delete, path = "/libraries/{lib}/titles/{title_id}/review", tag = "reviews", summary = "Delete the caller's review", params(("lib" = String, Path, description = "library id (UUID)"), ("title_id" = String, Path, description = "title id (UUID)")), responses((status = 204, description = "deleted"), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn delete_review(State(s): State<AppState>, ctx: InLibrary, Path(p): Path<HashMap<String, String>>) -> ApiResult<impl IntoResponse> {
    let title_id = id(&p, "title_id", "title")?;
    if !s.db.delete_review(&ctx.library.id, &title_id, &ctx.caller.account_id).await? {
        return Err(ApiError::not_found("review"));
    }
    Ok(StatusCode::NO_CONTENT)
}
