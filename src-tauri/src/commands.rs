//! Tauri commands: convert, call the store, map the error. Nothing else.

use crate::error::{CommandError, DeskError, DeskResult};
use crate::state::{AppState, AppStatus, SessionInfo};
use serde::{Deserialize, Serialize};
use shelfkeeper_domain::ids::{CopyId, HoldId, MemberId, TitleId};
use shelfkeeper_domain::model::{
    Account, Copy, CopyDraft, Hold, Loan, Member, MemberDraft, MemberType, Review, Role, StoreMode, Title, TitleDraft,
};
use shelfkeeper_domain::search::{Facets, SearchPage, SearchRequest};
use shelfkeeper_domain::{Error, Result};
use shelfkeeper_store::{BackupFile, BackupReport, CheckinReceipt, CheckoutReceipt, HoldNotice, RenewReceipt, Store, StoreStats};
use std::path::PathBuf;
use tauri::{AppHandle, Emitter, State};
use tauri_plugin_dialog::DialogExt;

pub(crate) type Cmd<T> = std::result::Result<T, CommandError>;

/// Any error as the command's answer: `{code, message}`.
pub(crate) fn fail(e: impl Into<DeskError>) -> CommandError {
    CommandError::from(e.into())
}

/// A title with everything its page shows.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct TitleDetail {
    pub title: Title,
    pub copies: Vec<Copy>,
    pub loans: Vec<Loan>,
    pub holds: Vec<Hold>,
    pub reviews: Vec<Review>,
}

/// A member with their loans (open and past) and holds.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct MemberDetail {
    pub member: Member,
    pub loans: Vec<Loan>,
    pub history: Vec<Loan>,
    pub holds: Vec<Hold>,
}

#[derive(Clone, Debug, Deserialize, ts_rs::TS)]
pub struct NewAdmin {
    pub username: String,
    pub password: String,
}

/// Progress of long work, sent as the `job-progress` event. `total` 0 means
/// the amount is unknown (show an indeterminate bar).
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct JobProgress {
    pub job: String,
    pub phase: String,
    pub done: u32,
    pub total: u32,
}

/// The UI has painted `screen` for the first time: log how long after launch,
/// so a slow start shows in the log (and the launch benchmark can read it).
#[tauri::command]
pub fn ui_ready(screen: String) {
    let since_launch = crate::LAUNCHED.get().map(|t| t.elapsed().as_millis()).unwrap_or(0);
    let unix_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    eprintln!("shelfkeeper: {screen} ready {since_launch} ms after launch (unix ms {unix_ms})");
}

#[tauri::command]
pub async fn app_status(state: State<'_, AppState>) -> Cmd<AppStatus> {
    Ok(state.status().await)
}

#[tauri::command]
pub async fn create_store(state: State<'_, AppState>, path: Option<String>, mode: StoreMode, admin: Option<NewAdmin>) -> Cmd<AppStatus> {
    let path = path.map(PathBuf::from).unwrap_or_else(|| state.default_store());
    if mode == StoreMode::Library && admin.is_none() {
        return Err(fail(Error::invalid("username", "a library needs an administrator account")));
    }
    // Check the admin's password before creating anything.
    if let Some(a) = &admin {
        let username = shelfkeeper_domain::model::validate_username(&a.username).map_err(fail)?;
        shelfkeeper_domain::password::check_policy(&a.password, &username).map_err(fail)?;
    }
    let store = Store::create_with(&path, mode, crate::state::memory_budget()).await.map_err(fail)?;
    let session = match admin {
        Some(a) => {
            Some(SessionInfo::of(&store.create_account(None, &a.username, &a.password, Role::Admin, None).await.map_err(fail)?, None))
        }
        None => None,
    };
    state.set_store(Some(store)).await.map_err(fail)?;
    state.set_session(session).await;
    Ok(state.status().await)
}

#[tauri::command]
pub async fn open_store(state: State<'_, AppState>, path: String) -> Cmd<AppStatus> {
    let store = Store::open_with(&path, crate::state::memory_budget()).await.map_err(fail)?;
    state.set_store(Some(store)).await.map_err(fail)?;
    Ok(state.status().await)
}

#[tauri::command]
pub async fn login(state: State<'_, AppState>, username: String, password: String) -> Cmd<AppStatus> {
    let store = state.store().await.map_err(fail)?;
    let account = store.authenticate(&username, &password).await.map_err(fail)?;
    let card = match account.member_id {
        Some(id) => Some(store.member_by_id(id).await.map_err(fail)?.card),
        None => None,
    };
    state.set_session(Some(SessionInfo::of(&account, card))).await;
    Ok(state.status().await)
}

#[tauri::command]
pub async fn logout(state: State<'_, AppState>) -> Cmd<AppStatus> {
    state.set_session(None).await;
    Ok(state.status().await)
}

/// The store and the actor, for commands that need a logged-in user in a
/// library (reads included: a library's catalogue is not anonymous here).
pub(crate) async fn ctx(state: &AppState) -> DeskResult<(Store, shelfkeeper_domain::access::Actor)> {
    let store = state.store().await?;
    let actor = state.actor().await?;
    Ok((store, actor))
}

#[tauri::command]
pub async fn search(state: State<'_, AppState>, request: SearchRequest) -> Cmd<SearchPage> {
    let (store, _) = ctx(&state).await.map_err(fail)?;
    store.search(&request).await.map_err(fail)
}

#[tauri::command]
pub async fn facets(state: State<'_, AppState>, request: SearchRequest) -> Cmd<Facets> {
    let (store, _) = ctx(&state).await.map_err(fail)?;
    store.facets(&request).await.map_err(fail)
}

#[tauri::command]
pub async fn title_detail(state: State<'_, AppState>, id: TitleId) -> Cmd<TitleDetail> {
    let (store, _) = ctx(&state).await.map_err(fail)?;
    let run = async {
        Ok::<_, Error>(TitleDetail {
            title: store.title(id).await?,
            copies: store.copies_of(id).await?,
            loans: store.loans_of_title(id, 200).await?,
            holds: store.holds_of_title(id).await?,
            reviews: store.reviews_of(id).await?,
        })
    };
    run.await.map_err(fail)
}

#[tauri::command]
pub async fn save_title(state: State<'_, AppState>, id: Option<TitleId>, draft: TitleDraft) -> Cmd<Title> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    match id {
        Some(id) => store.update_title(&actor, id, &draft).await,
        None => store.add_title(&actor, &draft).await,
    }
    .map_err(fail)
}

#[tauri::command]
pub async fn delete_title(state: State<'_, AppState>, id: TitleId) -> Cmd<()> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    store.delete_title(&actor, id).await.map_err(fail)
}

#[tauri::command]
pub async fn add_copy(state: State<'_, AppState>, title_id: TitleId, draft: CopyDraft) -> Cmd<Copy> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    store.add_copy(&actor, title_id, &draft).await.map_err(fail)
}

#[tauri::command]
pub async fn update_copy(state: State<'_, AppState>, id: CopyId, draft: CopyDraft) -> Cmd<Copy> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    store.update_copy(&actor, id, &draft).await.map_err(fail)
}

#[tauri::command]
pub async fn delete_copy(state: State<'_, AppState>, barcode: String) -> Cmd<()> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    store.delete_copy(&actor, &barcode).await.map_err(fail)
}

#[tauri::command]
pub async fn find_members(state: State<'_, AppState>, text: String, limit: u32) -> Cmd<Vec<Member>> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    actor.require(shelfkeeper_domain::access::Action::ManageMembers).map_err(fail)?;
    store.find_members(&text, limit).await.map_err(fail)
}

#[tauri::command]
pub async fn member_detail(state: State<'_, AppState>, card: String) -> Cmd<MemberDetail> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    let run = async {
        let member = store.member(&card).await?;
        actor.require(shelfkeeper_domain::access::Action::ActAsMember(member.id))?;
        Ok::<_, Error>(MemberDetail {
            loans: store.loans_of_member(member.id, false).await?,
            history: store.loans_of_member(member.id, true).await?,
            holds: store.holds_of_member(member.id).await?,
            member,
        })
    };
    run.await.map_err(fail)
}

#[tauri::command]
pub async fn save_member(state: State<'_, AppState>, id: Option<MemberId>, draft: MemberDraft) -> Cmd<Member> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    match id {
        Some(id) => store.update_member(&actor, id, &draft).await,
        None => store.add_member(&actor, &draft).await,
    }
    .map_err(fail)
}

#[tauri::command]
pub async fn set_member_blocked(state: State<'_, AppState>, card: String, reason: Option<String>) -> Cmd<Member> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    store.set_member_blocked(&actor, &card, reason.as_deref()).await.map_err(fail)
}

#[tauri::command]
pub async fn member_types(state: State<'_, AppState>) -> Cmd<Vec<MemberType>> {
    let (store, _) = ctx(&state).await.map_err(fail)?;
    store.member_types().await.map_err(fail)
}

#[tauri::command]
pub async fn save_member_type(state: State<'_, AppState>, member_type: MemberType) -> Cmd<MemberType> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    store.save_member_type(&actor, &member_type).await.map_err(fail)
}

#[tauri::command]
pub async fn check_out(state: State<'_, AppState>, card: String, barcode: String) -> Cmd<CheckoutReceipt> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    store.check_out(&actor, &card, &barcode).await.map_err(fail)
}

#[tauri::command]
pub async fn check_in(state: State<'_, AppState>, barcode: String) -> Cmd<CheckinReceipt> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    store.check_in(&actor, &barcode).await.map_err(fail)
}

#[tauri::command]
pub async fn renew(state: State<'_, AppState>, barcode: String) -> Cmd<RenewReceipt> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    store.renew(&actor, &barcode).await.map_err(fail)
}

#[tauri::command]
pub async fn place_hold(state: State<'_, AppState>, card: String, title_id: TitleId) -> Cmd<Hold> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    store.place_hold(&actor, &card, title_id).await.map_err(fail)
}

#[tauri::command]
pub async fn cancel_hold(state: State<'_, AppState>, id: HoldId) -> Cmd<Option<HoldNotice>> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    store.cancel_hold(&actor, id).await.map_err(fail)
}

#[tauri::command]
pub async fn open_loans(state: State<'_, AppState>, overdue_only: bool, limit: u32) -> Cmd<Vec<Loan>> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    actor.require(shelfkeeper_domain::access::Action::Circulate).map_err(fail)?;
    let today = chrono_today();
    store.open_loans(overdue_only, today, limit).await.map_err(fail)
}

fn chrono_today() -> shelfkeeper_domain::chrono::NaiveDate {
    shelfkeeper_domain::chrono::Local::now().date_naive()
}

#[tauri::command]
pub async fn active_holds(state: State<'_, AppState>, limit: u32) -> Cmd<Vec<Hold>> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    actor.require(shelfkeeper_domain::access::Action::Circulate).map_err(fail)?;
    store.active_holds(limit).await.map_err(fail)
}

#[tauri::command]
pub async fn stats(state: State<'_, AppState>) -> Cmd<StoreStats> {
    let (store, _) = ctx(&state).await.map_err(fail)?;
    store.stats().await.map_err(fail)
}

pub(crate) fn progress(app: &AppHandle, job: &str, phase: &str, done: u32, total: u32) {
    let _ = app.emit("job-progress", JobProgress { job: job.into(), phase: phase.into(), done, total });
}

#[derive(Clone, Debug, Deserialize, ts_rs::TS)]
pub struct NewAccount {
    pub username: String,
    pub password: String,
    pub role: Role,
    /// The member card a member account acts for (member role only).
    pub member_card: Option<String>,
}

#[tauri::command]
pub async fn accounts(state: State<'_, AppState>) -> Cmd<Vec<Account>> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    store.accounts(&actor).await.map_err(fail)
}

#[tauri::command]
pub async fn create_account(state: State<'_, AppState>, account: NewAccount) -> Cmd<Account> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    let card = account.member_card.as_deref().map(str::trim).filter(|c| !c.is_empty());
    store.create_account(Some(&actor), &account.username, &account.password, account.role, card).await.map_err(fail)
}

#[tauri::command]
pub async fn update_account(state: State<'_, AppState>, username: String, role: Role, disabled: bool) -> Cmd<Account> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    store.update_account(&actor, &username, role, disabled).await.map_err(fail)
}

/// Writes a verified backup: to `dest` when the user chose a file, else
/// into the store's backup folder under a dated name.
#[tauri::command]
pub async fn backup_now(app: AppHandle, state: State<'_, AppState>, dest: Option<String>) -> Cmd<BackupReport> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    actor.require(shelfkeeper_domain::access::Action::ManageSettings).map_err(fail)?;
    // SQLite writes the copy in one step; the bar is indeterminate until the
    // copy is verified.
    progress(&app, "backup", "writing", 0, 0);
    let report = match dest {
        Some(dest) => store.backup_to(&dest).await,
        None => store.backup_to_folder().await,
    };
    progress(&app, "backup", "done", 1, 1);
    report.map_err(fail)
}

/// Where "Back up now" writes, and the backups found there.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct BackupFolder {
    pub dir: String,
    pub backups: Vec<BackupFile>,
}

#[tauri::command]
pub async fn list_backups(state: State<'_, AppState>) -> Cmd<BackupFolder> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    actor.require(shelfkeeper_domain::access::Action::ManageSettings).map_err(fail)?;
    let dir = shelfkeeper_store::backup_dir(store.path());
    let backups = shelfkeeper_store::list_backups(&dir).map_err(fail)?;
    Ok(BackupFolder { dir: dir.display().to_string(), backups })
}

#[tauri::command]
pub async fn restore_backup(app: AppHandle, state: State<'_, AppState>, src: String) -> Cmd<AppStatus> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    actor.require(shelfkeeper_domain::access::Action::ManageSettings).map_err(fail)?;
    let target = store.path().to_path_buf();
    progress(&app, "restore", "verifying", 0, 0);
    // Verify before closing anything: a bad file changes nothing.
    shelfkeeper_store::verify_backup(std::path::Path::new(&src)).await.map_err(fail)?;
    state.set_store(None).await.map_err(fail)?;
    drop(store);
    let restored = shelfkeeper_store::restore_backup(std::path::Path::new(&src), &target).await;
    // Whatever happened, reopen what is at the store's path now.
    let reopened = Store::open_with(&target, crate::state::memory_budget()).await.map_err(fail)?;
    state.set_store(Some(reopened)).await.map_err(fail)?;
    progress(&app, "restore", "done", 1, 1);
    restored.map_err(fail)?;
    Ok(state.status().await)
}

async fn dialog_path(app: AppHandle, save: Option<String>) -> Cmd<Option<String>> {
    dialog(app, save, ("Shelfkeeper store", &["sqlite3"])).await
}

pub(crate) async fn dialog(app: AppHandle, save: Option<String>, filter: (&str, &[&str])) -> Cmd<Option<String>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let builder = app.dialog().file().add_filter(filter.0, filter.1);
    match save {
        Some(name) => builder.set_file_name(name).save_file(move |p| {
            let _ = tx.send(p);
        }),
        None => builder.pick_file(move |p| {
            let _ = tx.send(p);
        }),
    }
    let picked = rx.await.map_err(|_| fail(DeskError::Desktop("the file dialog closed unexpectedly".into())))?;
    Ok(picked.and_then(|p| p.into_path().ok()).map(|p| p.display().to_string()))
}

#[tauri::command]
pub async fn pick_save_path(app: AppHandle, suggested_name: String) -> Cmd<Option<String>> {
    dialog_path(app, Some(suggested_name)).await
}

#[tauri::command]
pub async fn pick_open_path(app: AppHandle) -> Cmd<Option<String>> {
    dialog_path(app, None).await
}

/// Asks for an image file and makes it the title's cover. `None`: the
/// dialog was cancelled.
#[tauri::command]
pub async fn set_cover_from_file(app: AppHandle, state: State<'_, AppState>, title_id: TitleId) -> Cmd<Option<Title>> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    let Some(path) = dialog(app, None, ("Images", &["jpg", "jpeg", "png", "webp", "gif"])).await? else { return Ok(None) };
    let bytes = read_cover_file(std::path::Path::new(&path)).map_err(fail)?;
    store.set_cover(&actor, title_id, &bytes, "file").await.map(Some).map_err(fail)
}

/// Reads an image, refusing a file too large for a cover before reading it.
fn read_cover_file(path: &std::path::Path) -> Result<Vec<u8>> {
    let cannot = |e: std::io::Error| Error::InvalidCover(format!("{} cannot be read: {e}", path.display()));
    let len = std::fs::metadata(path).map_err(cannot)?.len();
    let max = shelfkeeper_domain::cover::MAX_COVER_BYTES;
    if len > max as u64 {
        return Err(Error::InvalidCover(format!("the image is {} KiB; covers may be at most {} KiB", len / 1024, max / 1024)));
    }
    std::fs::read(path).map_err(cannot)
}

#[tauri::command]
pub async fn clear_cover(state: State<'_, AppState>, title_id: TitleId) -> Cmd<Title> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    store.clear_cover(&actor, title_id).await.map_err(fail)
}

/// Answers the webview's `cover://localhost/<id>` requests (the `cover`
/// URI scheme registered in lib.rs) from the open store, for anyone who may
/// see the catalogue. A blob never changes, so the webview may cache it.
pub async fn cover_response(state: &AppState, id: &str) -> tauri::http::Response<Vec<u8>> {
    use tauri::http::{Response, StatusCode, header};
    let found = async {
        let (store, _) = ctx(state).await?;
        Ok::<_, DeskError>(store.cover(&format!("cover:{id}")).await?)
    };
    match found.await {
        Ok(Some(img)) => Response::builder()
            .header(header::CONTENT_TYPE, img.mime)
            .header(header::CACHE_CONTROL, "max-age=31536000, immutable")
            .header("X-Content-Type-Options", "nosniff")
            .body(img.bytes),
        Ok(None) => Response::builder().status(StatusCode::NOT_FOUND).body(Vec::new()),
        Err(e) => {
            let status = if matches!(e, DeskError::NotLoggedIn | DeskError::NoStore) {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            Response::builder().status(status).body(Vec::new())
        }
    }
    .unwrap_or_default()
}

// ---- updates (the work is in `updates.rs`) ----

#[tauri::command]
pub async fn update_status(app: AppHandle) -> Cmd<crate::updates::UpdateStatus> {
    Ok(crate::updates::status(&app).await)
}

#[tauri::command]
pub async fn set_update_check(state: State<'_, AppState>, automatic: bool) -> Cmd<()> {
    state.set_check_updates_automatically(automatic).map_err(fail)
}

/// The newer version the update server offers, or `None` when up to date.
#[tauri::command]
pub async fn check_for_update(app: AppHandle) -> Cmd<Option<crate::updates::UpdateInfo>> {
    crate::updates::check(&app).await.map_err(fail)
}

/// Installs the update found by the last check; the program then restarts.
#[tauri::command]
pub async fn install_update(app: AppHandle) -> Cmd<()> {
    crate::updates::install(&app).await.map_err(fail)
}
