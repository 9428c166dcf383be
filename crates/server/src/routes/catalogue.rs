//! `/api/v1/libraries/{lib}/titles` and `/copies`: the catalogue of one
//! library. Everyone in the library reads and searches; librarians and
//! admins write. Validation is the domain's (`TitleDraft::validate`,
//! `CopyDraft::validate`, ISBN check digits).

use super::libraries::InLibrary;
use crate::db::catalogue::{CopyRow, HitRow, Search, Sort, TitleRow};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;
use crate::time::rfc3339;
use axum::Json as JsonOut;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use shelfkeeper_domain::access::Action;
use shelfkeeper_domain::isbn::Isbn;
use shelfkeeper_domain::model::{CopyDraft, Role, TitleDraft};
use shelfkeeper_domain::search::SortOrder;
use std::collections::HashMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search, create_title))
        .routes(routes!(facets))
        .routes(routes!(show_title, update_title, delete_title))
        .routes(routes!(add_copy))
        .routes(routes!(update_copy, delete_copy))
}

/// A path id: a UUID, or the resource cannot exist.
fn path_id(params: &HashMap<String, String>, name: &str, what: &str) -> ApiResult<String> {
    params.get(name).filter(|v| uuid::Uuid::parse_str(v).is_ok()).cloned().ok_or_else(|| ApiError::not_found(what))
}

#[derive(Serialize, utoipa::ToSchema)]
struct TitleOut {
    #[serde(flatten)]
    title: TitleRow,
    isbn10: Option<String>,
    copies: Vec<CopyOut>,
    created: String,
    updated: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct CopyOut {
    #[serde(flatten)]
    copy: CopyRow,
}

/// Members see where a copy is and whether it is in, not what it cost or
/// where it came from.
fn copy_out(mut c: CopyRow, role: Role) -> CopyOut {
    if role < Role::Librarian {
        c.price_cents = None;
        c.currency = None;
        c.provenance = None;
        c.notes = None;
    }
    CopyOut { copy: c }
}

async fn title_out(s: &AppState, ctx: &InLibrary, t: TitleRow) -> ApiResult<TitleOut> {
    let copies = s.db.copies_of(&ctx.library.id, &t.id).await?.into_iter().map(|c| copy_out(c, ctx.library.role)).collect();
    let isbn10 = t.isbn13.as_deref().and_then(|i| Isbn::parse(i).ok()).and_then(|i| i.isbn10());
    Ok(TitleOut { created: rfc3339(t.created_at), updated: rfc3339(t.updated_at), isbn10, copies, title: t })
}

#[utoipa::path(post, path = "/libraries/{lib}/titles", tag = "catalogue", summary = "Add a title (librarian)", params(("lib" = String, Path, description = "library id (UUID)")), request_body(content = Object, description = "TitleDraft: title, subtitle, contributors [{name, role}], subjects, tags, series, series_number, language, publisher, published, pages, isbn, lccn, call_number, notes, cover_ref"), responses((status = 201, description = "the title with its copies", body = TitleOut), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn create_title(State(s): State<AppState>, ctx: InLibrary, Json(draft): Json<TitleDraft>) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::ManageCatalogue)?;
    let valid = draft.validate()?;
    let id = shelfkeeper_domain::ids::TitleId::new().to_string();
    let t = s.db.put_title(&ctx.library.id, &id, &valid, false).await?;
    Ok((StatusCode::CREATED, JsonOut(title_out(&s, &ctx, t).await?)))
}

#[utoipa::path(get, path = "/libraries/{lib}/titles/{title_id}", tag = "catalogue", summary = "A title with its copies", params(("lib" = String, Path, description = "library id (UUID)"), ("title_id" = String, Path, description = "title id (UUID)")), responses((status = 200, description = "the title", body = TitleOut), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn show_title(State(s): State<AppState>, ctx: InLibrary, Path(p): Path<HashMap<String, String>>) -> ApiResult<impl IntoResponse> {
    let id = path_id(&p, "title_id", "title")?;
    let t = s.db.title(&ctx.library.id, &id).await?.ok_or_else(|| ApiError::not_found("title"))?;
    Ok(JsonOut(title_out(&s, &ctx, t).await?))
}

#[utoipa::path(put, path = "/libraries/{lib}/titles/{title_id}", tag = "catalogue", summary = "Replace a title (librarian)", params(("lib" = String, Path, description = "library id (UUID)"), ("title_id" = String, Path, description = "title id (UUID)")), request_body(content = Object, description = "TitleDraft"), responses((status = 200, description = "the title", body = TitleOut), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn update_title(
    State(s): State<AppState>,
    ctx: InLibrary,
    Path(p): Path<HashMap<String, String>>,
    Json(draft): Json<TitleDraft>,
) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::ManageCatalogue)?;
    let id = path_id(&p, "title_id", "title")?;
    let valid = draft.validate()?;
    let t = s.db.put_title(&ctx.library.id, &id, &valid, true).await?;
    Ok(JsonOut(title_out(&s, &ctx, t).await?))
}

#[utoipa::path(delete, path = "/libraries/{lib}/titles/{title_id}", tag = "catalogue", summary = "Delete a title without copies (librarian)", params(("lib" = String, Path, description = "library id (UUID)"), ("title_id" = String, Path, description = "title id (UUID)")), responses((status = 204, description = "deleted"), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn delete_title(State(s): State<AppState>, ctx: InLibrary, Path(p): Path<HashMap<String, String>>) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::ManageCatalogue)?;
    let id = path_id(&p, "title_id", "title")?;
    s.db.delete_title(&ctx.library.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/libraries/{lib}/titles/{title_id}/copies", tag = "catalogue", summary = "Add a copy (librarian)", params(("lib" = String, Path, description = "library id (UUID)"), ("title_id" = String, Path, description = "title id (UUID)")), request_body(content = Object, description = "CopyDraft: barcode, location, shelf, condition, acquired_on, price_cents, currency, provenance, notes"), responses((status = 201, description = "the copy", body = CopyOut), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn add_copy(
    State(s): State<AppState>,
    ctx: InLibrary,
    Path(p): Path<HashMap<String, String>>,
    Json(draft): Json<CopyDraft>,
) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::ManageCatalogue)?;
    let title_id = path_id(&p, "title_id", "title")?;
    let valid = draft.validate()?;
    let id = shelfkeeper_domain::ids::CopyId::new().to_string();
    let c = s.db.put_copy(&ctx.library.id, &id, &title_id, &valid, false).await?;
    Ok((StatusCode::CREATED, JsonOut(copy_out(c, ctx.library.role))))
}

#[utoipa::path(put, path = "/libraries/{lib}/copies/{copy_id}", tag = "catalogue", summary = "Replace a copy (librarian)", params(("lib" = String, Path, description = "library id (UUID)"), ("copy_id" = String, Path, description = "copy id (UUID)")), request_body(content = Object, description = "CopyDraft"), responses((status = 200, description = "the copy", body = CopyOut), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn update_copy(
    State(s): State<AppState>,
    ctx: InLibrary,
    Path(p): Path<HashMap<String, String>>,
    Json(draft): Json<CopyDraft>,
) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::ManageCatalogue)?;
    let id = path_id(&p, "copy_id", "copy")?;
    let current = s.db.copy(&ctx.library.id, &id).await?.ok_or_else(|| ApiError::not_found("copy"))?;
    let valid = draft.validate()?;
    let c = s.db.put_copy(&ctx.library.id, &id, &current.title_id, &valid, true).await?;
    Ok(JsonOut(copy_out(c, ctx.library.role)))
}

#[utoipa::path(delete, path = "/libraries/{lib}/copies/{copy_id}", tag = "catalogue", summary = "Delete a copy on the shelf without history (librarian)", params(("lib" = String, Path, description = "library id (UUID)"), ("copy_id" = String, Path, description = "copy id (UUID)")), responses((status = 204, description = "deleted"), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn delete_copy(State(s): State<AppState>, ctx: InLibrary, Path(p): Path<HashMap<String, String>>) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::ManageCatalogue)?;
    let id = path_id(&p, "copy_id", "copy")?;
    s.db.delete_copy(&ctx.library.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, default)]
struct SearchQuery {
    /// Words; each must occur in the title's text. An ISBN finds its edition.
    q: String,
    language: Option<String>,
    tag: Option<String>,
    subject: Option<String>,
    year_from: Option<i64>,
    year_to: Option<i64>,
    /// Only titles with a copy on the shelf.
    available: bool,
    /// Only titles with a copy at this location.
    location: Option<String>,
    /// The desktop's orders: `title` (default), `relevance` (every word in
    /// the title first, then in title/people/series/subjects, then
    /// anywhere; shorter titles first; newest first without words),
    /// `author`, `year_newest`, `year_oldest`, `recently_added`.
    sort: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct SearchOut {
    items: Vec<HitRow>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", msg)
}

fn bad_cursor() -> ApiError {
    ApiError::bad_request("bad_cursor", "the cursor is not one this search returned; start again without it")
}

/// Cursors are `base64url(JSON [sort, key, id])`: tied to the sort order.
fn encode_cursor(sort: &str, key: &str, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&(sort, key, id)).unwrap_or_default())
}

fn decode_cursor(sort: &str, c: &str) -> ApiResult<(String, String)> {
    let bytes = URL_SAFE_NO_PAD.decode(c).map_err(|_| bad_cursor())?;
    let (s, key, id): (String, String, String) = serde_json::from_slice(&bytes).map_err(|_| bad_cursor())?;
    if s != sort || uuid::Uuid::parse_str(&id).is_err() || key.contains('\0') {
        return Err(bad_cursor());
    }
    Ok((key, id))
}

/// The sort order by the desktop's name for it (`SortOrder`, snake_case).
fn sort_order(name: &str) -> ApiResult<Sort> {
    let order: SortOrder = serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|_| invalid(format!("sort: '{name}' is not one of title, relevance, author, year_newest, year_oldest, recently_added")))?;
    Ok(match order {
        SortOrder::Relevance => Sort::Relevance,
        SortOrder::Title => Sort::Title,
        SortOrder::Author => Sort::Author,
        SortOrder::YearNewest => Sort::YearNewest,
        SortOrder::YearOldest => Sort::YearOldest,
        SortOrder::RecentlyAdded => Sort::RecentlyAdded,
    })
}

/// Checks a search's words and filters (the page and order are the caller's).
fn parse_search(q: &SearchQuery) -> ApiResult<Search> {
    if q.q.chars().count() > 500 || q.q.contains('\0') {
        return Err(invalid("q: at most 500 characters"));
    }
    // An ISBN, typed any way, matches the stored ISBN-13.
    let words: Vec<String> = if Isbn::looks_like_isbn(&q.q) {
        match Isbn::parse(&q.q) {
            Ok(i) => vec![i.isbn13().to_owned()],
            Err(_) => q.q.split_whitespace().map(str::to_lowercase).collect(),
        }
    } else {
        q.q.split_whitespace().map(str::to_lowercase).collect()
    };
    if words.len() > 12 {
        return Err(invalid("q: at most 12 words"));
    }
    for (name, v) in [("language", &q.language), ("tag", &q.tag), ("subject", &q.subject), ("location", &q.location)] {
        if v.as_deref().is_some_and(|v| v.chars().count() > 200 || v.contains('\0')) {
            return Err(invalid(format!("{name}: at most 200 characters")));
        }
    }
    Ok(Search {
        words,
        language: q.language.as_ref().map(|l| l.to_lowercase()),
        tag: q.tag.clone(),
        subject: q.subject.clone(),
        year_from: q.year_from,
        year_to: q.year_to,
        available: q.available,
        location: q.location.clone(),
        after: None,
        limit: 50,
        force_scan: None,
    })
}

#[utoipa::path(get, path = "/libraries/{lib}/titles", tag = "catalogue", summary = "Search the catalogue: words, filters, the desktop's sort orders, keyset pages", params(("lib" = String, Path, description = "library id (UUID)"), SearchQuery), responses((status = 200, description = "a page of results", body = SearchOut), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn search(State(s): State<AppState>, ctx: InLibrary, Query(q): Query<SearchQuery>) -> ApiResult<impl IntoResponse> {
    let mut search = parse_search(&q)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(invalid("limit: from 1 to 200"));
    }
    let sort_name = q.sort.as_deref().unwrap_or("title");
    let mut sort = sort_order(sort_name)?;
    if sort == Sort::Relevance && search.words.is_empty() {
        // As on the desktop: without words, relevance is newest first.
        sort = Sort::RecentlyAdded;
    }
    search.after = q.cursor.as_deref().map(|c| decode_cursor(sort_name, c)).transpose()?;
    search.limit = limit;
    let mut items = s.db.search(&ctx.library.id, &search, sort).await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|h| encode_cursor(sort_name, &sort.key(h), &h.id))
    } else {
        None
    };
    Ok(JsonOut(SearchOut { items, next_cursor }))
}

/// Facet counts (the desktop's `Facets`) for a search, over its best 1,000
/// matches; `exact` when that was all of them.
#[utoipa::path(get, path = "/libraries/{lib}/titles/facets", tag = "catalogue", summary = "Counts by subject, tag, language, decade and location for a search", params(("lib" = String, Path, description = "library id (UUID)"), SearchQuery), responses((status = 200, description = "`{subjects, tags, languages, decades, locations: [{value, count}], available, sample, exact}`", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn facets(State(s): State<AppState>, ctx: InLibrary, Query(q): Query<SearchQuery>) -> ApiResult<impl IntoResponse> {
    if q.sort.is_some() || q.cursor.is_some() || q.limit.is_some() {
        return Err(invalid("facets take the words and filters of a search, not sort, cursor or limit"));
    }
    let search = parse_search(&q)?;
    Ok(JsonOut(s.db.facets(&ctx.library.id, &search).await?))
}
