//! Sync with desktops, per library (`crates/sync` is the protocol). Staff
//! register their desktop stores as devices, push the changes they made
//! and pull everyone's. The feed holds members' personal data and loan
//! history, so pulling is for staff (librarian, admin) too; a member
//! account's pushed changes are each refused (`forbidden`).

use super::libraries::InLibrary;
use crate::db::sync::{DeviceRow, Stored};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Query};
use crate::state::AppState;
use axum::Json as JsonOut;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;
use shelfkeeper_domain::access::Action;
use shelfkeeper_sync::{Change, Entity, PROTOCOL_VERSION, PullRequest, PushRequest, PushResponse, RejectCode, Rejected, check_pushed};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Pushes carry pages of changes: more than the API's general body limit.
pub const MAX_PUSH_BYTES: usize = 16 * 1024 * 1024;
/// At most this many changes per push, and per pulled page.
pub const MAX_PAGE: u32 = 1000;
const DEFAULT_PAGE: u32 = 500;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(devices, register))
        .routes(routes!(push))
        .routes(routes!(pull_get, pull_post))
        .routes(routes!(snapshot))
        .layer(DefaultBodyLimit::max(MAX_PUSH_BYTES))
}

fn unsupported(protocol: u32) -> ApiError {
    ApiError::bad_request(
        "unsupported_protocol",
        format!("sync protocol {protocol} is not spoken here; this server speaks version {PROTOCOL_VERSION}"),
    )
}

fn parse_site(s: &str) -> ApiResult<uuid::Uuid> {
    uuid::Uuid::parse_str(s).map_err(|_| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "site_id: a UUID"))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct DeviceIn {
    /// The desktop store's site id (UUID).
    site_id: String,
    /// For people, e.g. "Front desk".
    name: String,
}

/// Registers a desktop store (its site id) with the library, or renames
/// it. Staff only; a device must be registered before it pushes.
#[utoipa::path(post, path = "/libraries/{lib}/sync/devices", tag = "sync", summary = "Register (201) or rename (200) a desktop store as a sync device (librarian)", params(("lib" = String, Path, description = "library id (UUID)")), request_body = DeviceIn, responses((status = 201, description = "registered", body = DeviceRow), (status = 200, description = "already registered: renamed", body = DeviceRow), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn register(State(s): State<AppState>, ctx: InLibrary, Json(b): Json<DeviceIn>) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::Circulate)?;
    let site = parse_site(&b.site_id)?.to_string();
    let name = b.name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "name: 1 to 200 characters, no control characters"));
    }
    if site == *s.db.site {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "site_id: that is the server's own site id"));
    }
    // Re-registering another account's device moves it to the caller: only
    // an administrator may (an explicit transfer).
    let may_transfer = ctx.actor().require(Action::ManageAccounts).is_ok();
    let (created, row) = s.db.register_device(&ctx.library.id, &site, name, &ctx.caller.account_id, may_transfer).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, JsonOut(row)))
}

#[utoipa::path(get, path = "/libraries/{lib}/sync/devices", tag = "sync", summary = "The library's sync devices (admin)", params(("lib" = String, Path, description = "library id (UUID)")), responses((status = 200, description = "`{items: [DeviceRow]}`", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn devices(State(s): State<AppState>, ctx: InLibrary) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::ManageAccounts)?;
    Ok(JsonOut(json!({ "items": s.db.devices(&ctx.library.id).await? })))
}

/// What the caller's role lets them push, per entity.
fn action_for(entity: Entity) -> Action {
    match entity {
        Entity::Title | Entity::Copy => Action::ManageCatalogue,
        // Loan rules: administrators, as in REST and at the desk.
        Entity::MemberType => Action::ManageSettings,
        Entity::Member => Action::ManageMembers,
        // Settling a conflict is desk work: lending, members, catalogue.
        Entity::Event | Entity::ConflictResolution => Action::Circulate,
    }
}

/// Stores a page of the device's changes. Each change is answered:
/// accepted with its server sequence (again for one already stored), or
/// rejected — `forbidden` (another site's change, or the caller's role may
/// not make it), `clock_skew` (more than 5 minutes ahead of the server;
/// send it again later), `malformed`.
#[utoipa::path(post, path = "/libraries/{lib}/sync/push", tag = "sync", summary = "Push a page of a device's changes (`shelfkeeper_sync::PushRequest` → `PushResponse`)", params(("lib" = String, Path, description = "library id (UUID)")), request_body(content = Object, description = "`{protocol, site_id, changes: [Change]}`"), responses((status = 200, description = "`{accepted: [{change_id, server_seq}], rejected: [{change_id, code, reason}]}`", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn push(State(s): State<AppState>, ctx: InLibrary, Json(req): Json<PushRequest>) -> ApiResult<impl IntoResponse> {
    if req.protocol != PROTOCOL_VERSION {
        return Err(unsupported(req.protocol));
    }
    if req.changes.len() > MAX_PAGE as usize {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("at most {MAX_PAGE} changes per push; got {}", req.changes.len()),
        ));
    }
    let actor = ctx.actor();
    let now = crate::db::now_ms().max(0) as u64;
    let mut resp = PushResponse::default();
    let mut ok: Vec<Change> = Vec::new();
    for c in req.changes {
        let allowed = actor.require(action_for(c.entity)).map_err(|e| Rejected {
            change_id: c.change_id,
            code: RejectCode::Forbidden,
            reason: format!("{e} (a {} change)", c.entity.as_str()),
        });
        match allowed.and_then(|()| check_pushed(&c, req.site_id, now)) {
            Ok(()) => ok.push(c),
            Err(r) => resp.rejected.push(r),
        }
    }
    if !ok.is_empty() {
        let site = req.site_id.to_string();
        match s.db.device_owner(&ctx.library.id, &site).await? {
            None => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "unknown_device",
                    "this device is not registered with the library: register its site id first (POST …/sync/devices)",
                ));
            }
            // A device pushes as the account that registered it: another
            // librarian cannot write under its site (and its stamps).
            Some(owner) if owner != ctx.caller.account_id => {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "this device is registered to another account: sign in as that account, or ask an administrator to transfer it (POST …/sync/devices)",
                ));
            }
            Some(_) => {}
        }
        for (c, stored) in ok.iter().zip(s.db.store_pushed(&ctx.library.id, &site, &ctx.caller.account_id, &ok).await?) {
            match stored {
                Stored::Accepted(seq) => resp.accepted.push(shelfkeeper_sync::Accepted { change_id: c.change_id, server_seq: seq }),
                Stored::Rejected(r) => resp.rejected.push(r),
            }
        }
    }
    Ok(JsonOut(resp))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct PullQuery {
    /// The last server sequence already applied (0 at first).
    #[serde(default)]
    after: u64,
    /// Page size, 1 to 1000 (default 500).
    limit: Option<u32>,
    /// The pulling device's site id, to record when it last pulled.
    site_id: Option<String>,
    /// The sync protocol version (default: this server's).
    protocol: Option<u32>,
    /// When nothing is newer than `after`, wait up to this many
    /// milliseconds (at most 30,000) for a change before answering (a long
    /// poll). Default 0: answer at once.
    wait_ms: Option<u64>,
}

/// The longest a pull may wait for changes.
pub const MAX_WAIT_MS: u64 = 30_000;

async fn pull_page(
    s: &AppState,
    ctx: &InLibrary,
    site: Option<String>,
    req: PullRequest,
    wait_ms: u64,
) -> ApiResult<JsonOut<shelfkeeper_sync::PullResponse>> {
    ctx.require(Action::Circulate)?;
    if req.protocol != PROTOCOL_VERSION {
        return Err(unsupported(req.protocol));
    }
    if req.limit == 0 || req.limit > MAX_PAGE {
        return Err(ApiError::bad_request("bad_query", format!("limit: 1 to {MAX_PAGE}")));
    }
    if wait_ms > MAX_WAIT_MS {
        return Err(ApiError::bad_request("bad_query", format!("wait_ms: 0 to {MAX_WAIT_MS}")));
    }
    let site = site.map(|v| parse_site(&v).map(|u| u.to_string())).transpose()?;
    let wait = std::time::Duration::from_millis(wait_ms);
    Ok(JsonOut(s.db.pull_waiting(&ctx.library.id, site.as_deref(), req.after, req.limit, wait).await?))
}

/// Changes after a server sequence, in order, one page at a time.
#[utoipa::path(get, path = "/libraries/{lib}/sync/pull", tag = "sync", summary = "Pull changes after a sequence (librarian; `PullResponse`)", params(("lib" = String, Path, description = "library id (UUID)"), PullQuery), responses((status = 200, description = "`{changes: [{server_seq, change}], high_water, more}`", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn pull_get(State(s): State<AppState>, ctx: InLibrary, Query(q): Query<PullQuery>) -> ApiResult<impl IntoResponse> {
    let req = PullRequest { protocol: q.protocol.unwrap_or(PROTOCOL_VERSION), after: q.after, limit: q.limit.unwrap_or(DEFAULT_PAGE) };
    pull_page(&s, &ctx, q.site_id, req, q.wait_ms.unwrap_or(0)).await
}

/// The same as GET, with a `PullRequest` body.
#[utoipa::path(post, path = "/libraries/{lib}/sync/pull", tag = "sync", summary = "Pull changes after a sequence (librarian; `PullRequest` → `PullResponse`)", params(("lib" = String, Path, description = "library id (UUID)")), request_body(content = Object, description = "`{protocol, after, limit}`"), responses((status = 200, description = "`{changes: [{server_seq, change}], high_water, more}`", body = Object), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn pull_post(State(s): State<AppState>, ctx: InLibrary, Json(req): Json<PullRequest>) -> ApiResult<impl IntoResponse> {
    pull_page(&s, &ctx, None, req, 0).await
}

/// Snapshots read a library's whole feed: at most this many at once per
/// process (others are answered 503 and retried later).
static SNAPSHOT_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct SnapshotQuery {
    /// The sync protocol version (default: this server's).
    protocol: Option<u32>,
}

/// The library's feed compacted for a desk's first sync
/// (`shelfkeeper_sync::snapshot`): newline-delimited JSON, a head line
/// `{protocol, as_of, estimate}`, one `{server_seq, change}` per line, and
/// an end line `{end}` with the number of changes. 409
/// `snapshot_unavailable` while the feed is not applied to the library's
/// tables (pull it instead); 503 `busy` while other snapshots are read.
#[utoipa::path(get, path = "/libraries/{lib}/sync/snapshot", tag = "sync", summary = "The library's feed compacted for a first sync (librarian; NDJSON stream)", params(("lib" = String, Path, description = "library id (UUID)"), SnapshotQuery), responses((status = 200, description = "`application/x-ndjson`: head, changes, end line", content_type = "application/x-ndjson", body = String), (status = "4XX", description = "refused: `{\"error\": {\"code\", \"message\"}}`", body = crate::error::ErrorBody), (status = 503, description = "busy: other snapshots are being read; try again shortly", body = crate::error::ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn snapshot(State(s): State<AppState>, ctx: InLibrary, Query(q): Query<SnapshotQuery>) -> ApiResult<impl IntoResponse> {
    ctx.require(Action::Circulate)?;
    let protocol = q.protocol.unwrap_or(PROTOCOL_VERSION);
    if protocol != PROTOCOL_VERSION {
        return Err(unsupported(protocol));
    }
    let slot = SNAPSHOT_SLOTS
        .try_acquire()
        .map_err(|_| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "other snapshots are being read: try again in a minute"))?;
    let Some(snap) = s.db.snapshot(&ctx.library.id).await? else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "snapshot_unavailable",
            "the library's feed is still being applied to its tables: pull the feed instead",
        ));
    };
    // The slot is held until the body is sent (or the client leaves).
    let body = futures_util::stream::unfold((snap.body, Some(slot)), |(mut rx, slot)| async move {
        rx.recv().await.map(|chunk| (Ok::<_, std::convert::Infallible>(chunk), (rx, slot)))
    });
    Ok(([(axum::http::header::CONTENT_TYPE, shelfkeeper_sync::snapshot::CONTENT_TYPE)], axum::body::Body::from_stream(body)))
}
