//! `/api/v1/libraries/...`: libraries and memberships. Every route under
//! `/libraries/{lib}` resolves the caller's role there first; "no such
//! library" and "not a member" give the same 404.

use crate::auth::normalise_email;
use crate::db::libraries::LibraryRow;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, Json, Path};
use crate::state::AppState;
use crate::time::rfc3339;
use axum::Json as JsonOut;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use serde_json::json;
use shelfkeeper_domain::access::{Action, Actor};
use shelfkeeper_domain::ids::AccountId;
use shelfkeeper_domain::model::Role;
use std::collections::HashMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show))
        .routes(routes!(memberships, set_membership))
        .routes(routes!(remove_membership))
}

/// The caller and their role in the library named by the `{lib}` segment.
pub struct InLibrary {
    pub caller: Caller,
    pub library: LibraryRow,
}

impl InLibrary {
    pub fn actor(&self) -> Actor {
        let id = self.caller.account_id.parse().map(AccountId).unwrap_or_default();
        let actor = Actor::account(id, self.library.role, None);
        match self.caller.key_scopes {
            Some(scopes) => actor.through_key(scopes),
            None => actor,
        }
    }

    /// Refuses with the domain's `permission_denied` (403) when the role
    /// does not allow the action.
    pub fn require(&self, action: Action) -> ApiResult<()> {
        self.actor().require(action).map_err(ApiError::from)
    }
}

impl FromRequestParts<AppState> for InLibrary {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state).await?;
        let lib = params.get("lib").ok_or_else(|| ApiError::internal("route without {lib}"))?;
        // Ids are UUIDs; anything else (a NUL byte, SQL) cannot name a library.
        if uuid::Uuid::parse_str(lib).is_err() {
            return Err(ApiError::not_found("library"));
        }
        let library = state.db.library_for(lib, &caller.account_id).await?.ok_or_else(|| ApiError::not_found("library"))?;
        Ok(InLibrary { caller, library })
    }
}

#[derive(Serialize, utoipa::ToSchema)]
struct LibraryOut {
    id: String,
    name: String,
    #[schema(value_type = String, example = "librarian")]
    role: Role,
    created_at: String,
}

impl From<LibraryRow> for LibraryOut {
    fn from(l: LibraryRow) -> Self {
        LibraryOut { id: l.id, name: l.name, role: l.role, created_at: rfc3339(l.created_at) }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewLibrary {
    name: String,
}

fn check_name(name: &str) -> ApiResult<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 200 || n.chars().any(char::is_control) {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "name: 1 to 200 characters, no control characters"));
    }
    Ok(n.to_owned())
}

/// Any signed-in account may create a library and becomes its admin.
#[utoipa::path(post, path = "/libraries", tag = "libraries", summary = "Create a library; the caller becomes its admin", request_body = NewLibrary, responses((status = 201, description = "the library", body = LibraryOut), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn create(State(s): State<AppState>, caller: Caller, Json(body): Json<NewLibrary>) -> ApiResult<impl IntoResponse> {
    // Creating a library makes its administrator: not for API keys.
    caller.session()?;
    let name = check_name(&body.name)?;
    let id = uuid::Uuid::now_v7().to_string();
    let created = s.db.create_library(&id, &name, &caller.account_id).await?;
    Ok((StatusCode::CREATED, JsonOut(LibraryOut { id, name, role: Role::Admin, created_at: rfc3339(created) })))
}

#[utoipa::path(get, path = "/libraries", tag = "libraries", summary = "Libraries the caller belongs to, with the role", responses((status = 200, description = "`{items: [LibraryOut]}`", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn list(State(s): State<AppState>, caller: Caller) -> ApiResult<impl IntoResponse> {
    let items: Vec<LibraryOut> = s.db.libraries_of(&caller.account_id).await?.into_iter().map(LibraryOut::from).collect();
    Ok(JsonOut(json!({ "items": items })))
}

#[utoipa::path(get, path = "/libraries/{lib}", tag = "libraries", summary = "One library (404 also when not a member)", params(("lib" = String, Path, description = "library id (UUID)")), responses((status = 200, description = "the library", body = LibraryOut), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn show(ctx: InLibrary) -> ApiResult<impl IntoResponse> {
    Ok(JsonOut(LibraryOut::from(ctx.library)))
}

#[derive(Serialize, utoipa::ToSchema)]
struct MembershipOut {
    account_id: String,
    email: String,
    display_name: String,
    #[schema(value_type = String, example = "librarian")]
    role: Role,
    since: String,
}

#[utoipa::path(get, path = "/libraries/{lib}/memberships", tag = "libraries", summary = "Accounts and roles (admin)", params(("lib" = String, Path, description = "library id (UUID)")), responses((status = 200, description = "`{items: [MembershipOut]}`", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn memberships(State(s): State<AppState>, ctx: InLibrary) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::ManageAccounts)?;
    let items: Vec<MembershipOut> =
        s.db.memberships(&ctx.library.id)
            .await?
            .into_iter()
            .map(|m| MembershipOut {
                account_id: m.account_id,
                email: m.email,
                display_name: m.display_name,
                role: m.role,
                since: rfc3339(m.created_at),
            })
            .collect();
    Ok(JsonOut(json!({ "items": items })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SetMembership {
    email: String,
    #[schema(value_type = String, example = "librarian")]
    role: Role,
}

/// Adds an account (by email) to the library, or changes its role.
#[utoipa::path(put, path = "/libraries/{lib}/memberships", tag = "libraries", summary = "Add an account by email or change its role (admin)", params(("lib" = String, Path, description = "library id (UUID)")), request_body = SetMembership, responses((status = 200, description = "the membership", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn set_membership(State(s): State<AppState>, ctx: InLibrary, Json(body): Json<SetMembership>) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::ManageAccounts)?;
    let email = normalise_email(&body.email)
        .ok_or_else(|| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "email: not an email address"))?;
    let account =
        s.db.account_by_email(&email)
            .await?
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "account_not_found", format!("no account has the address {email}")))?;
    // Refused with `last_admin` when it would leave no administrator.
    s.db.upsert_membership(&ctx.library.id, &account.id, body.role).await?;
    Ok(JsonOut(json!({ "account_id": account.id, "email": account.email, "role": body.role })))
}

#[utoipa::path(delete, path = "/libraries/{lib}/memberships/{account_id}", tag = "libraries", summary = "Remove an account from the library (admin)", params(("lib" = String, Path, description = "library id (UUID)"), ("account_id" = String, Path, description = "account id (UUID)")), responses((status = 204, description = "removed"), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn remove_membership(
    State(s): State<AppState>,
    ctx: InLibrary,
    Path(params): Path<HashMap<String, String>>,
) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::ManageAccounts)?;
    let account_id = params.get("account_id").map(String::as_str).unwrap_or_default();
    if uuid::Uuid::parse_str(account_id).is_err() {
        return Err(ApiError::not_found("membership"));
    }
    s.db.library_for(&ctx.library.id, account_id).await?.ok_or_else(|| ApiError::not_found("membership"))?;
    s.db.remove_membership(&ctx.library.id, account_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
