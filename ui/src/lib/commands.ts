// Generated from src-tauri's #[tauri::command] functions by src-tauri/wiring.rs.
// Do not edit: run `UPDATE_BINDINGS=1 cargo test -p shelfkeeper-desktop bindings`.
import { call } from './call';
import type { Account } from './bindings/Account';
import type { AddedTitle } from './bindings/AddedTitle';
import type { AppStatus } from './bindings/AppStatus';
import type { BackupFolder } from './bindings/BackupFolder';
import type { BackupReport } from './bindings/BackupReport';
import type { CheckinReceipt } from './bindings/CheckinReceipt';
import type { CheckoutReceipt } from './bindings/CheckoutReceipt';
import type { ConflictAction } from './bindings/ConflictAction';
import type { ConnectRequest } from './bindings/ConnectRequest';
import type { Connection } from './bindings/Connection';
import type { Copy } from './bindings/Copy';
import type { CopyDraft } from './bindings/CopyDraft';
import type { CopyId } from './bindings/CopyId';
import type { ExportFormat } from './bindings/ExportFormat';
import type { ExportReport } from './bindings/ExportReport';
import type { Facets } from './bindings/Facets';
import type { Hold } from './bindings/Hold';
import type { HoldId } from './bindings/HoldId';
import type { HoldNotice } from './bindings/HoldNotice';
import type { ImportRow } from './bindings/ImportRow';
import type { ImportSummary } from './bindings/ImportSummary';
import type { Loan } from './bindings/Loan';
import type { LookupAnswer } from './bindings/LookupAnswer';
import type { Member } from './bindings/Member';
import type { MemberDetail } from './bindings/MemberDetail';
import type { MemberDraft } from './bindings/MemberDraft';
import type { MemberId } from './bindings/MemberId';
import type { MemberType } from './bindings/MemberType';
import type { NewAccount } from './bindings/NewAccount';
import type { NewAdmin } from './bindings/NewAdmin';
import type { RenewReceipt } from './bindings/RenewReceipt';
import type { Role } from './bindings/Role';
import type { RowKind } from './bindings/RowKind';
import type { SearchPage } from './bindings/SearchPage';
import type { SearchRequest } from './bindings/SearchRequest';
import type { StageRequest } from './bindings/StageRequest';
import type { StagedFile } from './bindings/StagedFile';
import type { StoreMode } from './bindings/StoreMode';
import type { StoreStats } from './bindings/StoreStats';
import type { SyncConflict } from './bindings/SyncConflict';
import type { SyncOverview } from './bindings/SyncOverview';
import type { SyncRun } from './bindings/SyncRun';
import type { Title } from './bindings/Title';
import type { TitleDetail } from './bindings/TitleDetail';
import type { TitleDraft } from './bindings/TitleDraft';
import type { TitleField } from './bindings/TitleField';
import type { TitleId } from './bindings/TitleId';
import type { UpdateInfo } from './bindings/UpdateInfo';
import type { UpdateStatus } from './bindings/UpdateStatus';

/** Every command: the arguments the webview passes and what it answers. */
export type Commands = {
  lookup_isbn: { args: { isbn: string; refresh: boolean }; result: LookupAnswer };
  add_title_from_lookup: { args: { draft: TitleDraft }; result: AddedTitle };
  set_field_lock: { args: { titleId: TitleId; field: TitleField; locked: boolean }; result: Title };
  cancel_job: { args: Record<string, never>; result: null };
  pick_import_file: { args: Record<string, never>; result: string | null };
  stage_import: { args: { request: StageRequest }; result: StagedFile };
  import_rows: { args: { id: string; kind: RowKind | null; after: number; limit: number }; result: ImportRow[] };
  list_imports: { args: Record<string, never>; result: ImportSummary[] };
  commit_import: { args: { id: string }; result: ImportSummary };
  discard_import: { args: { id: string }; result: null };
  save_failed_rows: { args: { id: string; path: string }; result: boolean };
  pick_save_file: { args: { kind: string; suggestedName: string }; result: string | null };
  export_catalogue: { args: { format: ExportFormat; path: string }; result: ExportReport };
  default_export_dir: { args: Record<string, never>; result: string };
  ui_ready: { args: { screen: string }; result: null };
  app_status: { args: Record<string, never>; result: AppStatus };
  create_store: { args: { path: string | null; mode: StoreMode; admin: NewAdmin | null }; result: AppStatus };
  open_store: { args: { path: string }; result: AppStatus };
  login: { args: { username: string; password: string }; result: AppStatus };
  logout: { args: Record<string, never>; result: AppStatus };
  search: { args: { request: SearchRequest }; result: SearchPage };
  facets: { args: { request: SearchRequest }; result: Facets };
  title_detail: { args: { id: TitleId }; result: TitleDetail };
  save_title: { args: { id: TitleId | null; draft: TitleDraft }; result: Title };
  delete_title: { args: { id: TitleId }; result: null };
  add_copy: { args: { titleId: TitleId; draft: CopyDraft }; result: Copy };
  update_copy: { args: { id: CopyId; draft: CopyDraft }; result: Copy };
  delete_copy: { args: { barcode: string }; result: null };
  find_members: { args: { text: string; limit: number }; result: Member[] };
  member_detail: { args: { card: string }; result: MemberDetail };
  save_member: { args: { id: MemberId | null; draft: MemberDraft }; result: Member };
  set_member_blocked: { args: { card: string; reason: string | null }; result: Member };
  member_types: { args: Record<string, never>; result: MemberType[] };
  save_member_type: { args: { memberType: MemberType }; result: MemberType };
  check_out: { args: { card: string; barcode: string }; result: CheckoutReceipt };
  check_in: { args: { barcode: string }; result: CheckinReceipt };
  renew: { args: { barcode: string }; result: RenewReceipt };
  place_hold: { args: { card: string; titleId: TitleId }; result: Hold };
  cancel_hold: { args: { id: HoldId }; result: HoldNotice | null };
  open_loans: { args: { overdueOnly: boolean; limit: number }; result: Loan[] };
  active_holds: { args: { limit: number }; result: Hold[] };
  stats: { args: Record<string, never>; result: StoreStats };
  accounts: { args: Record<string, never>; result: Account[] };
  create_account: { args: { account: NewAccount }; result: Account };
  update_account: { args: { username: string; role: Role; disabled: boolean }; result: Account };
  backup_now: { args: { dest: string | null }; result: BackupReport };
  list_backups: { args: Record<string, never>; result: BackupFolder };
  restore_backup: { args: { src: string }; result: AppStatus };
  pick_save_path: { args: { suggestedName: string }; result: string | null };
  pick_open_path: { args: Record<string, never>; result: string | null };
  set_cover_from_file: { args: { titleId: TitleId }; result: Title | null };
  clear_cover: { args: { titleId: TitleId }; result: Title };
  update_status: { args: Record<string, never>; result: UpdateStatus };
  set_update_check: { args: { automatic: boolean }; result: null };
  check_for_update: { args: Record<string, never>; result: UpdateInfo | null };
  install_update: { args: Record<string, never>; result: null };
  sync_overview: { args: Record<string, never>; result: SyncOverview };
  sync_connect: { args: { request: ConnectRequest }; result: Connection };
  sync_disconnect: { args: Record<string, never>; result: null };
  sync_now: { args: Record<string, never>; result: SyncRun };
  sync_cancel: { args: Record<string, never>; result: null };
  sync_set_interval: { args: { secs: number }; result: Connection };
  sync_conflicts: { args: Record<string, never>; result: SyncConflict[] };
  sync_resolve_conflict: { args: { key: string; action: ConflictAction; note: string }; result: SyncConflict };
};
export type CommandName = keyof Commands;

/**
 * What the cache or the metadata providers know about an ISBN (`refresh`
 * asks the providers again).
 */
export const lookupIsbn = (isbn: string, refresh: boolean) => call<LookupAnswer>('lookup_isbn', { isbn, refresh });

/**
 * Adds a title checked after a look-up: fields still as found keep their
 * source; fetches the cover.
 */
export const addTitleFromLookup = (draft: TitleDraft) => call<AddedTitle>('add_title_from_lookup', { draft });

export const setFieldLock = (titleId: TitleId, field: TitleField, locked: boolean) => call<Title>('set_field_lock', { titleId, field, locked });

/**
 * Stops the long job in hand (an import's reading or committing, an
 * export) after the batch it is writing.
 */
export const cancelJob = () => call<null>('cancel_job');

/** Asks for a file to import; `None` if the dialog was cancelled. */
export const pickImportFile = () => call<string | null>('pick_import_file');

export const stageImport = (request: StageRequest) => call<StagedFile>('stage_import', { request });

export const importRows = (id: string, kind: RowKind | null, after: number, limit: number) => call<ImportRow[]>('import_rows', { id, kind, after, limit });

export const listImports = () => call<ImportSummary[]>('list_imports');

export const commitImport = (id: string) => call<ImportSummary>('commit_import', { id });

export const discardImport = (id: string) => call<null>('discard_import', { id });

/**
 * Writes the rows that failed to `path` (chosen with `pick_save_file`);
 * `false` if no row failed.
 */
export const saveFailedRows = (id: string, path: string) => call<boolean>('save_failed_rows', { id, path });

/**
 * Asks where to save a file of `kind` (csv, json, xml) under a suggested
 * name; `None` if the dialog was cancelled.
 */
export const pickSaveFile = (kind: string, suggestedName: string) => call<string | null>('pick_save_file', { kind, suggestedName });

/** Exports the catalogue to `path` (typed, or chosen with `pick_save_file`). */
export const exportCatalogue = (format: ExportFormat, path: string) => call<ExportReport>('export_catalogue', { format, path });

/** Where an export goes unless the person chooses: the documents folder. */
export const defaultExportDir = () => call<string>('default_export_dir');

/**
 * The UI has painted `screen` for the first time: log how long after launch,
 * so a slow start shows in the log (and the launch benchmark can read it).
 */
export const uiReady = (screen: string) => call<null>('ui_ready', { screen });

export const appStatus = () => call<AppStatus>('app_status');

export const createStore = (path: string | null, mode: StoreMode, admin: NewAdmin | null) => call<AppStatus>('create_store', { path, mode, admin });

export const openStore = (path: string) => call<AppStatus>('open_store', { path });

export const login = (username: string, password: string) => call<AppStatus>('login', { username, password });

export const logout = () => call<AppStatus>('logout');

export const search = (request: SearchRequest) => call<SearchPage>('search', { request });

export const facets = (request: SearchRequest) => call<Facets>('facets', { request });

export const titleDetail = (id: TitleId) => call<TitleDetail>('title_detail', { id });

export const saveTitle = (id: TitleId | null, draft: TitleDraft) => call<Title>('save_title', { id, draft });

export const deleteTitle = (id: TitleId) => call<null>('delete_title', { id });

export const addCopy = (titleId: TitleId, draft: CopyDraft) => call<Copy>('add_copy', { titleId, draft });

export const updateCopy = (id: CopyId, draft: CopyDraft) => call<Copy>('update_copy', { id, draft });

export const deleteCopy = (barcode: string) => call<null>('delete_copy', { barcode });

export const findMembers = (text: string, limit: number) => call<Member[]>('find_members', { text, limit });

export const memberDetail = (card: string) => call<MemberDetail>('member_detail', { card });

export const saveMember = (id: MemberId | null, draft: MemberDraft) => call<Member>('save_member', { id, draft });

export const setMemberBlocked = (card: string, reason: string | null) => call<Member>('set_member_blocked', { card, reason });

export const memberTypes = () => call<MemberType[]>('member_types');

export const saveMemberType = (memberType: MemberType) => call<MemberType>('save_member_type', { memberType });

export const checkOut = (card: string, barcode: string) => call<CheckoutReceipt>('check_out', { card, barcode });

export const checkIn = (barcode: string) => call<CheckinReceipt>('check_in', { barcode });

export const renew = (barcode: string) => call<RenewReceipt>('renew', { barcode });

export const placeHold = (card: string, titleId: TitleId) => call<Hold>('place_hold', { card, titleId });

export const cancelHold = (id: HoldId) => call<HoldNotice | null>('cancel_hold', { id });

export const openLoans = (overdueOnly: boolean, limit: number) => call<Loan[]>('open_loans', { overdueOnly, limit });

export const activeHolds = (limit: number) => call<Hold[]>('active_holds', { limit });

export const stats = () => call<StoreStats>('stats');

export const accounts = () => call<Account[]>('accounts');

export const createAccount = (account: NewAccount) => call<Account>('create_account', { account });

export const updateAccount = (username: string, role: Role, disabled: boolean) => call<Account>('update_account', { username, role, disabled });

/**
 * Writes a verified backup: to `dest` when the user chose a file, else
 * into the store's backup folder under a dated name.
 */
export const backupNow = (dest: string | null) => call<BackupReport>('backup_now', { dest });

export const listBackups = () => call<BackupFolder>('list_backups');

export const restoreBackup = (src: string) => call<AppStatus>('restore_backup', { src });

export const pickSavePath = (suggestedName: string) => call<string | null>('pick_save_path', { suggestedName });

export const pickOpenPath = () => call<string | null>('pick_open_path');

/**
 * Asks for an image file and makes it the title's cover. `None`: the
 * dialog was cancelled.
 */
export const setCoverFromFile = (titleId: TitleId) => call<Title | null>('set_cover_from_file', { titleId });

export const clearCover = (titleId: TitleId) => call<Title>('clear_cover', { titleId });

export const updateStatus = () => call<UpdateStatus>('update_status');

export const setUpdateCheck = (automatic: boolean) => call<null>('set_update_check', { automatic });

/** The newer version the update server offers, or `None` when up to date. */
export const checkForUpdate = () => call<UpdateInfo | null>('check_for_update');

/** Installs the update found by the last check; the program then restarts. */
export const installUpdate = () => call<null>('install_update');

export const syncOverview = () => call<SyncOverview>('sync_overview');

export const syncConnect = (request: ConnectRequest) => call<Connection>('sync_connect', { request });

export const syncDisconnect = () => call<null>('sync_disconnect');

/**
 * Syncs now and answers when the run is over (the UI stays live: progress
 * comes as events meanwhile).
 */
export const syncNow = () => call<SyncRun>('sync_now');

export const syncCancel = () => call<null>('sync_cancel');

export const syncSetInterval = (secs: number) => call<Connection>('sync_set_interval', { secs });

export const syncConflicts = () => call<SyncConflict[]>('sync_conflicts');

/** Staff settle a conflict; the resolution syncs to every desk. */
export const syncResolveConflict = (key: string, action: ConflictAction, note: string) => call<SyncConflict>('sync_resolve_conflict', { key, action, note });
