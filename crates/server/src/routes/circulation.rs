//! Members (patrons), the circulation desk and reports of one library.
//! Librarians and admins manage members and lend; a member account linked
//! to a member record sees its own loans and renews them.

use super::libraries::InLibrary;
use crate::auth::normalise_email;
use crate::db::circulation::LoanRow;
use crate::db::members::MemberRow;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;
use crate::time::rfc3339;
use axum::Json as JsonOut;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use serde_json::json;
use shelfkeeper_domain::access::{Action, Actor};
use shelfkeeper_domain::ids::{AccountId, MemberId};
use shelfkeeper_domain::model::MemberDraft;
use shelfkeeper_domain::text;
use std::collections::HashMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_members, create_member))
        .routes(routes!(show_member, update_member, delete_member))
        .routes(routes!(member_loans))
        .routes(routes!(member_types))
        .routes(routes!(put_member_type))
        .routes(routes!(block_member, unblock_member))
        .routes(routes!(my_loans))
        .routes(routes!(checkout))
        .routes(routes!(checkin))
        .routes(routes!(renew))
        .routes(routes!(mark_lost))
        .routes(routes!(popular))
        .routes(routes!(per_month))
}

fn member_id(params: &HashMap<String, String>) -> ApiResult<String> {
    params.get("member_id").filter(|v| uuid::Uuid::parse_str(v).is_ok()).cloned().ok_or_else(|| ApiError::not_found("member"))
}

pub(super) fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// The caller as the domain sees them here, with their own member record.
pub(super) async fn actor(s: &AppState, ctx: &InLibrary) -> ApiResult<(Actor, Option<MemberRow>)> {
    let me = s.db.member_of_account(&ctx.library.id, &ctx.caller.account_id).await?;
    let account = ctx.caller.account_id.parse().map(AccountId).unwrap_or_default();
    let member_id = me.as_ref().and_then(|m| m.id.parse().ok()).map(MemberId);
    Ok((Actor::account(account, ctx.library.role, member_id), me))
}

// No deny_unknown_fields: serde does not support it with `flatten`.
#[derive(Deserialize)]
struct MemberIn {
    #[serde(flatten)]
    draft: MemberDraft,
    /// Links the record to this account, so its owner sees their loans.
    #[serde(default)]
    account_email: Option<String>,
}

async fn linked_account(s: &AppState, email: Option<&str>) -> ApiResult<Option<String>> {
    let Some(raw) = email.filter(|e| !e.trim().is_empty()) else { return Ok(None) };
    let email = normalise_email(raw)
        .ok_or_else(|| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "account_email: not an email address"))?;
    let a =
        s.db.account_by_email(&email)
            .await?
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "account_not_found", format!("no account has the address {email}")))?;
    Ok(Some(a.id))
}

#[utoipa::path(post, path = "/libraries/{lib}/members", tag = "circulation", summary = "Add a member record (librarian)", params(("lib" = String, Path, description = "library id (UUID)")), request_body(content = Object, description = "MemberDraft (card, name, email, phone, address, member_type, expires_on, notes) and account_email to link an account"), responses((status = 201, description = "the member", body = MemberRow), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn create_member(State(s): State<AppState>, ctx: InLibrary, Json(body): Json<MemberIn>) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::ManageMembers)?;
    let d = body.draft.validate()?;
    let account = linked_account(&s, body.account_email.as_deref()).await?;
    let id = MemberId::new().to_string();
    let m = s.db.put_member(&ctx.library.id, &id, &d, account.as_deref(), false).await?;
    Ok((StatusCode::CREATED, JsonOut(m)))
}

#[utoipa::path(put, path = "/libraries/{lib}/members/{member_id}", tag = "circulation", summary = "Replace a member record (librarian)", params(("lib" = String, Path, description = "library id (UUID)"), ("member_id" = String, Path, description = "member record id (UUID)")), request_body(content = Object, description = "MemberDraft and account_email"), responses((status = 200, description = "the member", body = MemberRow), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn update_member(
    State(s): State<AppState>,
    ctx: InLibrary,
    Path(p): Path<HashMap<String, String>>,
    Json(body): Json<MemberIn>,
) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::ManageMembers)?;
    let id = member_id(&p)?;
    let d = body.draft.validate()?;
    let account = linked_account(&s, body.account_email.as_deref()).await?;
    Ok(JsonOut(s.db.put_member(&ctx.library.id, &id, &d, account.as_deref(), true).await?))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, default)]
struct Page {
    /// The last card of the previous page.
    after: String,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/libraries/{lib}/members", tag = "circulation", summary = "Members by card (librarian)", params(("lib" = String, Path, description = "library id (UUID)"), Page), responses((status = 200, description = "`{items, next_after}`", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn list_members(State(s): State<AppState>, ctx: InLibrary, Query(p): Query<Page>) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::ManageMembers)?;
    let limit = p.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) || p.after.contains('\0') {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "limit: from 1 to 500"));
    }
    let items = s.db.members(&ctx.library.id, &p.after, limit).await?;
    let next = if items.len() as i64 == limit { items.last().map(|m| m.card.clone()) } else { None };
    Ok(JsonOut(json!({ "items": items, "next_after": next })))
}

/// Staff, or the member themself.
async fn visible_member(s: &AppState, ctx: &InLibrary, p: &HashMap<String, String>) -> ApiResult<MemberRow> {
    let id = member_id(p)?;
    let (actor, _) = actor(s, ctx).await?;
    let target = MemberId(uuid::Uuid::parse_str(&id).unwrap_or_default());
    if actor.require(Action::ActAsMember(target)).is_err() {
        // Others' records are not confirmed to exist.
        return Err(ApiError::not_found("member"));
    }
    s.db.member(&ctx.library.id, &id).await?.ok_or_else(|| ApiError::not_found("member"))
}

#[utoipa::path(get, path = "/libraries/{lib}/members/{member_id}", tag = "circulation", summary = "A member record (staff, or its own account)", params(("lib" = String, Path, description = "library id (UUID)"), ("member_id" = String, Path, description = "member record id (UUID)")), responses((status = 200, description = "the member", body = MemberRow), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn show_member(State(s): State<AppState>, ctx: InLibrary, Path(p): Path<HashMap<String, String>>) -> ApiResult<impl IntoResponse> {
    Ok(JsonOut(visible_member(&s, &ctx, &p).await?))
}

/// As at a desk: refused while the member has loans (409
/// `member_has_loans`); their holds are cancelled, their history stays.
#[utoipa::path(delete, path = "/libraries/{lib}/members/{member_id}", tag = "circulation", summary = "Delete a member without open loans (librarian)", params(("lib" = String, Path, description = "library id (UUID)"), ("member_id" = String, Path, description = "member record id (UUID)")), responses((status = 204, description = "deleted"), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn delete_member(State(s): State<AppState>, ctx: InLibrary, Path(p): Path<HashMap<String, String>>) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::ManageMembers)?;
    let id = member_id(&p)?;
    s.db.delete_member(&ctx.library.id, &id, today()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct MemberTypeIn {
    name: String,
    loan_days: u32,
    max_renewals: u32,
    max_loans: u32,
    hold_pickup_days: u32,
}

#[utoipa::path(get, path = "/libraries/{lib}/member-types", tag = "circulation", summary = "Loan rules per member type (librarian)", params(("lib" = String, Path, description = "library id (UUID)")), responses((status = 200, description = "`{items: [{code, name, loan_days, max_renewals, max_loans, hold_pickup_days}]}`", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn member_types(State(s): State<AppState>, ctx: InLibrary) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::ManageMembers)?;
    let items: Vec<_> = s.db.member_types(&ctx.library.id).await?.into_iter().map(type_out).collect();
    Ok(JsonOut(json!({ "items": items })))
}

fn type_out(t: shelfkeeper_domain::model::MemberType) -> serde_json::Value {
    json!({ "code": t.code, "name": t.name, "loan_days": t.loan_days, "max_renewals": t.max_renewals, "max_loans": t.max_loans, "hold_pickup_days": t.hold_pickup_days })
}

#[utoipa::path(put, path = "/libraries/{lib}/member-types/{code}", tag = "circulation", summary = "Create or change a member type's loan rules (admin)", params(("lib" = String, Path, description = "library id (UUID)"), ("code" = String, Path, description = "member type code, e.g. adult")), request_body = MemberTypeIn, responses((status = 200, description = "the member type", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn put_member_type(
    State(s): State<AppState>,
    ctx: InLibrary,
    Path(p): Path<HashMap<String, String>>,
    Json(b): Json<MemberTypeIn>,
) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::ManageSettings)?;
    let code = p.get("code").map(|c| c.trim().to_lowercase()).unwrap_or_default();
    let t = shelfkeeper_domain::model::MemberType {
        id: shelfkeeper_domain::ids::MemberTypeId::new(),
        code,
        name: b.name.trim().to_owned(),
        loan_days: b.loan_days,
        max_renewals: b.max_renewals,
        max_loans: b.max_loans,
        hold_pickup_days: b.hold_pickup_days,
    };
    t.validate()?;
    if t.name.is_empty() || t.name.chars().count() > 100 || t.code.chars().any(|c| c.is_control()) {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "name: 1 to 100 characters"));
    }
    Ok(JsonOut(type_out(s.db.put_member_type(&ctx.library.id, &t).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct BlockIn {
    reason: String,
}

#[utoipa::path(put, path = "/libraries/{lib}/members/{member_id}/block", tag = "circulation", summary = "Block a member from borrowing (librarian)", params(("lib" = String, Path, description = "library id (UUID)"), ("member_id" = String, Path, description = "member record id (UUID)")), request_body = BlockIn, responses((status = 200, description = "the member", body = MemberRow), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn block_member(
    State(s): State<AppState>,
    ctx: InLibrary,
    Path(p): Path<HashMap<String, String>>,
    Json(b): Json<BlockIn>,
) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::ManageMembers)?;
    let id = member_id(&p)?;
    let reason = b.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "reason: 1 to 500 characters"));
    }
    Ok(JsonOut(s.db.set_member_block(&ctx.library.id, &id, Some(reason)).await?))
}

#[utoipa::path(delete, path = "/libraries/{lib}/members/{member_id}/block", tag = "circulation", summary = "Lift a member's block (librarian)", params(("lib" = String, Path, description = "library id (UUID)"), ("member_id" = String, Path, description = "member record id (UUID)")), responses((status = 200, description = "the member", body = MemberRow), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn unblock_member(State(s): State<AppState>, ctx: InLibrary, Path(p): Path<HashMap<String, String>>) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::ManageMembers)?;
    let id = member_id(&p)?;
    Ok(JsonOut(s.db.set_member_block(&ctx.library.id, &id, None).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
struct LoanOut {
    #[serde(flatten)]
    loan: LoanRow,
    out: String,
    returned: Option<String>,
    overdue_days: i64,
}

fn loan_out(l: LoanRow) -> LoanOut {
    let overdue_days = match (l.returned_at.or(l.lost_at), l.due_on.parse::<chrono::NaiveDate>()) {
        (None, Ok(due)) => (today() - due).num_days().max(0),
        _ => 0,
    };
    LoanOut { out: rfc3339(l.out_at), returned: l.returned_at.map(rfc3339), overdue_days, loan: l }
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, default)]
struct LoanFilter {
    open: bool,
}

#[utoipa::path(get, path = "/libraries/{lib}/members/{member_id}/loans", tag = "circulation", summary = "A member's loans, newest first (staff, or its own account)", params(("lib" = String, Path, description = "library id (UUID)"), ("member_id" = String, Path, description = "member record id (UUID)"), LoanFilter), responses((status = 200, description = "`{items: [loan]}`", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn member_loans(
    State(s): State<AppState>,
    ctx: InLibrary,
    Path(p): Path<HashMap<String, String>>,
    Query(f): Query<LoanFilter>,
) -> ApiResult<impl IntoResponse> {
    let m = visible_member(&s, &ctx, &p).await?;
    let items: Vec<LoanOut> = s.db.loans_of(&ctx.library.id, &m.id, f.open).await?.into_iter().map(loan_out).collect();
    Ok(JsonOut(json!({ "items": items })))
}

/// The caller's own loans and history; empty without a member record.
#[utoipa::path(get, path = "/libraries/{lib}/me/loans", tag = "circulation", summary = "The caller's own loans and history", params(("lib" = String, Path, description = "library id (UUID)"), LoanFilter), responses((status = 200, description = "`{items: [loan]}`", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn my_loans(State(s): State<AppState>, ctx: InLibrary, Query(f): Query<LoanFilter>) -> ApiResult<impl IntoResponse> {
    let (_, me) = actor(&s, &ctx).await?;
    let items: Vec<LoanOut> = match me {
        Some(m) => s.db.loans_of(&ctx.library.id, &m.id, f.open).await?.into_iter().map(loan_out).collect(),
        None => Vec::new(),
    };
    Ok(JsonOut(json!({ "items": items })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CheckoutIn {
    barcode: String,
    card: String,
}

#[utoipa::path(post, path = "/libraries/{lib}/checkout", tag = "circulation", summary = "Lend a copy to a member (librarian)", params(("lib" = String, Path, description = "library id (UUID)")), request_body = CheckoutIn, responses((status = 201, description = "the loan", body = LoanOut), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn checkout(State(s): State<AppState>, ctx: InLibrary, Json(b): Json<CheckoutIn>) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::Circulate)?;
    let barcode = text::barcode("barcode", &b.barcode)?;
    let card = text::barcode("card", &b.card)?;
    let loan = s.db.check_out(&ctx.library.id, &barcode, &card, today()).await?;
    metrics::counter!("shelfkeeper_checkouts_total").increment(1);
    Ok((StatusCode::CREATED, JsonOut(loan_out(loan))))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct BarcodeIn {
    barcode: String,
}

#[utoipa::path(post, path = "/libraries/{lib}/checkin", tag = "circulation", summary = "Return a copy (librarian); says whose hold it now waits for", params(("lib" = String, Path, description = "library id (UUID)")), request_body = BarcodeIn, responses((status = 200, description = "`{loan, hold_shelf_for}`", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn checkin(State(s): State<AppState>, ctx: InLibrary, Json(b): Json<BarcodeIn>) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::Circulate)?;
    let barcode = text::barcode("barcode", &b.barcode)?;
    let out = s.db.check_in(&ctx.library.id, &barcode, today()).await?;
    let loan = out.loan.map(|l| {
        let mut l = loan_out(l);
        l.overdue_days = out.overdue_days;
        l
    });
    // `hold_shelf_for` tells the desk to put the copy on the hold shelf for that card.
    Ok(JsonOut(json!({ "loan": loan, "found": out.found, "hold_shelf_for": out.hold_shelf_for })))
}

#[utoipa::path(post, path = "/libraries/{lib}/lost", tag = "circulation", summary = "Mark a copy lost (librarian); its loan ends as lost, a check-in later finds it", params(("lib" = String, Path, description = "library id (UUID)")), request_body = BarcodeIn, responses((status = 200, description = "`{loan}`: the loan that ended, if any", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn mark_lost(State(s): State<AppState>, ctx: InLibrary, Json(b): Json<BarcodeIn>) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::Circulate)?;
    let barcode = text::barcode("barcode", &b.barcode)?;
    let loan = s.db.mark_lost(&ctx.library.id, &barcode).await?;
    Ok(JsonOut(json!({ "loan": loan.map(loan_out) })))
}

/// Staff renew any loan; a member renews their own.
#[utoipa::path(post, path = "/libraries/{lib}/renew", tag = "circulation", summary = "Renew a loan (librarian, or the borrower)", params(("lib" = String, Path, description = "library id (UUID)")), request_body = BarcodeIn, responses((status = 200, description = "the loan", body = LoanOut), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn renew(State(s): State<AppState>, ctx: InLibrary, Json(b): Json<BarcodeIn>) -> ApiResult<impl IntoResponse> {
    let barcode = text::barcode("barcode", &b.barcode)?;
    let (actor, _) = actor(&s, &ctx).await?;
    if actor.require(Action::Circulate).is_err() {
        let loan = s.db.open_loan_of(&ctx.library.id, &barcode).await?;
        let borrower = loan.as_ref().and_then(|l| l.member_id.parse().ok()).map(MemberId);
        match borrower {
            Some(m) => actor.require(Action::ActAsMember(m))?,
            None => actor.require(Action::Circulate)?,
        }
    }
    Ok(JsonOut(loan_out(s.db.renew(&ctx.library.id, &barcode, today()).await?)))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, default)]
struct PopularQuery {
    days: Option<i64>,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/libraries/{lib}/reports/popular-titles", tag = "reports", summary = "Titles by number of loans (librarian)", params(("lib" = String, Path, description = "library id (UUID)"), PopularQuery), responses((status = 200, description = "`{days, items: [{title_id, title, loans}]}`", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn popular(State(s): State<AppState>, ctx: InLibrary, Query(q): Query<PopularQuery>) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::Circulate)?;
    let days = q.days.unwrap_or(365);
    let limit = q.limit.unwrap_or(20);
    if !(1..=3650).contains(&days) || !(1..=100).contains(&limit) {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "days: 1 to 3650; limit: 1 to 100"));
    }
    let since = crate::db::now_ms() - days * 86_400_000;
    let items: Vec<_> =
        s.db.popular_titles(&ctx.library.id, since, limit)
            .await?
            .into_iter()
            .map(|(id, title, loans)| json!({ "title_id": id, "title": title, "loans": loans }))
            .collect();
    Ok(JsonOut(json!({ "days": days, "items": items })))
}

#[utoipa::path(get, path = "/libraries/{lib}/reports/loans-per-month", tag = "reports", summary = "Loans per month (librarian)", params(("lib" = String, Path, description = "library id (UUID)")), responses((status = 200, description = "`{items: [{month, loans}]}`", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn per_month(State(s): State<AppState>, ctx: InLibrary) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::Circulate)?;
    let items: Vec<_> =
        s.db.loans_per_month(&ctx.library.id).await?.into_iter().map(|(month, loans)| json!({ "month": month, "loans": loans })).collect();
    Ok(JsonOut(json!({ "items": items })))
}
