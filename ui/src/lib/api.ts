// The only module that talks to the Rust side. Every command has a typed
// wrapper here; the rest of the UI imports these functions (so tests can mock
// this one module). Errors are normalised to ErrorPayload {code, message}.
import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import { toErrorPayload } from './errors';
import type {
  Connection,
  ConnectRequest,
  SyncConflict,
  ConflictAction,
  SyncOverview,
  SyncProgress,
  SyncRun,
  Account,
  AppStatus,
  BackupFolder,
  BackupReport,
  CheckinReceipt,
  CheckoutReceipt,
  Copy,
  CopyDraft,
  Facets,
  Hold,
  HoldNotice,
  JobProgress,
  Loan,
  Member,
  MemberDetail,
  MemberDraft,
  MemberType,
  NewAccount,
  NewAdmin,
  RenewReceipt,
  Role,
  SearchPage,
  SearchRequest,
  StoreMode,
  StoreStats,
  Title,
  TitleDetail,
  TitleDraft,
  LookupAnswer,
  AddedTitle,
  StagedFile,
  ImportOptions,
  ImportRow,
  ImportSummary,
  RowKind,
  ExportFormat,
  ExportReport,
  TitleField,
  UpdateInfo,
  UpdateProgress,
  UpdateStatus,
} from './types';

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw toErrorPayload(e);
  }
}

// --- store and session ---
export const appStatus = () => call<AppStatus>('app_status');
export const createStore = (path: string | null, mode: StoreMode, admin: NewAdmin | null) =>
  call<AppStatus>('create_store', { path, mode, admin });
export const openStore = (path: string) => call<AppStatus>('open_store', { path });
export const login = (username: string, password: string) => call<AppStatus>('login', { username, password });
export const logout = () => call<AppStatus>('logout');
/** The first paint of a screen since launch, for the startup log line. */
export const uiReady = (screen: string) => call<null>('ui_ready', { screen });

// --- catalogue ---
export const search = (request: SearchRequest) => call<SearchPage>('search', { request });
export const facets = (request: SearchRequest) => call<Facets>('facets', { request });
export const titleDetail = (id: string) => call<TitleDetail>('title_detail', { id });
export const saveTitle = (id: string | null, draft: TitleDraft) => call<Title>('save_title', { id, draft });
export const deleteTitle = (id: string) => call<null>('delete_title', { id });
export const addCopy = (titleId: string, draft: CopyDraft) => call<Copy>('add_copy', { titleId, draft });
export const updateCopy = (id: string, draft: CopyDraft) => call<Copy>('update_copy', { id, draft });
export const deleteCopy = (barcode: string) => call<null>('delete_copy', { barcode });
/** Asks for an image file (native dialog) and makes it the cover; null if cancelled. */
export const setCoverFromFile = (titleId: string) => call<Title | null>('set_cover_from_file', { titleId });
export const clearCover = (titleId: string) => call<Title>('clear_cover', { titleId });

// --- getting books in and out ---
/** What the cache or the providers know about an ISBN. */
export const lookupIsbn = (isbn: string, refresh: boolean) => call<LookupAnswer>('lookup_isbn', { isbn, refresh });
/** Adds a title checked after a look-up; fields still as found keep their source; fetches the cover. */
export const addTitleFromLookup = (draft: TitleDraft) => call<AddedTitle>('add_title_from_lookup', { draft });
export const setFieldLock = (titleId: string, field: TitleField, locked: boolean) =>
  call<Title>('set_field_lock', { titleId, field, locked });
/** Stops the long job in hand after its current batch. */
export const cancelJob = () => call<null>('cancel_job');
export const pickImportFile = () => call<string | null>('pick_import_file');
export const stageImport = (path: string, options: ImportOptions) => call<StagedFile>('stage_import', { request: { path, options } });
export const importRows = (id: string, kind: RowKind | null, after: number, limit: number) =>
  call<ImportRow[]>('import_rows', { id, kind, after, limit });
export const listImports = () => call<ImportSummary[]>('list_imports');
export const commitImport = (id: string) => call<ImportSummary>('commit_import', { id });
export const discardImport = (id: string) => call<null>('discard_import', { id });
/** Writes the failed rows to `path`; false if none failed. */
export const saveFailedRows = (id: string, path: string) => call<boolean>('save_failed_rows', { id, path });
export const pickSaveFile = (kind: 'csv' | 'json' | 'xml', suggestedName: string) =>
  call<string | null>('pick_save_file', { kind, suggestedName });
export const exportCatalogue = (format: ExportFormat, path: string) => call<ExportReport>('export_catalogue', { format, path });
export const defaultExportDir = () => call<string>('default_export_dir');

// --- members ---
export const findMembers = (text: string, limit: number) => call<Member[]>('find_members', { text, limit });
export const memberDetail = (card: string) => call<MemberDetail>('member_detail', { card });
export const saveMember = (id: string | null, draft: MemberDraft) => call<Member>('save_member', { id, draft });
export const setMemberBlocked = (card: string, reason: string | null) =>
  call<Member>('set_member_blocked', { card, reason });
export const memberTypes = () => call<MemberType[]>('member_types');
export const saveMemberType = (memberType: MemberType) => call<MemberType>('save_member_type', { memberType });

// --- circulation ---
export const checkOut = (card: string, barcode: string) => call<CheckoutReceipt>('check_out', { card, barcode });
export const checkIn = (barcode: string) => call<CheckinReceipt>('check_in', { barcode });
export const renew = (barcode: string) => call<RenewReceipt>('renew', { barcode });
export const placeHold = (card: string, titleId: string) => call<Hold>('place_hold', { card, titleId });
export const cancelHold = (id: string) => call<HoldNotice | null>('cancel_hold', { id });
export const openLoans = (overdueOnly: boolean, limit: number) => call<Loan[]>('open_loans', { overdueOnly, limit });
export const activeHolds = (limit: number) => call<Hold[]>('active_holds', { limit });

// --- accounts (library mode, administrators) ---
export const accounts = () => call<Account[]>('accounts');
export const createAccount = (account: NewAccount) => call<Account>('create_account', { account });
export const updateAccount = (username: string, role: Role, disabled: boolean) =>
  call<Account>('update_account', { username, role, disabled });

// --- store upkeep ---
export const stats = () => call<StoreStats>('stats');
/** A backup to `dest`, or (null) into the store's backup folder. */
export const backupNow = (dest: string | null) => call<BackupReport>('backup_now', { dest });
export const listBackups = () => call<BackupFolder>('list_backups');
export const restoreBackup = (src: string) => call<AppStatus>('restore_backup', { src });
export const pickSavePath = (suggestedName: string) => call<string | null>('pick_save_path', { suggestedName });
export const pickOpenPath = () => call<string | null>('pick_open_path');

// --- updates (Rust downloads, verifies, backs up, installs and restarts) ---
export const updateStatus = () => call<UpdateStatus>('update_status');
export const setUpdateCheck = (automatic: boolean) => call<null>('set_update_check', { automatic });
/** The newer version the update server offers, or null when up to date. */
export const checkForUpdate = () => call<UpdateInfo | null>('check_for_update');
/** Installs the update found by the last check; the program then restarts. */
export const installUpdate = () => call<null>('install_update');

// --- events ---
export function onJobProgress(handler: (p: JobProgress) => void): Promise<UnlistenFn> {
  return listen<JobProgress>('job-progress', (event) => handler(event.payload));
}

/** Progress of an update being installed. */
export function onUpdateProgress(handler: (p: UpdateProgress) => void): Promise<UnlistenFn> {
  return listen<UpdateProgress>('update-progress', (event) => handler(event.payload));
}

/** An update found by the check at start (or any later check). */
// --- sync with a server (Rust runs it in the background; the keychain holds the sign-in) ---
export const syncOverview = () => call<SyncOverview>('sync_overview');
export const syncConnect = (request: ConnectRequest) => call<Connection>('sync_connect', { request });
export const syncDisconnect = () => call<null>('sync_disconnect');
export const syncNow = () => call<SyncRun>('sync_now');
export const syncCancel = () => call<null>('sync_cancel');
export const syncSetInterval = (secs: number) => call<Connection>('sync_set_interval', { secs });
export const syncConflicts = () => call<SyncConflict[]>('sync_conflicts');
export const syncResolveConflict = (key: string, action: ConflictAction, note: string) =>
  call<SyncConflict>('sync_resolve_conflict', { key, action, note });

export function onSyncProgress(handler: (p: SyncProgress) => void): Promise<UnlistenFn> {
  return listen<SyncProgress>('sync-progress', (event) => handler(event.payload));
}

export function onSyncStatus(handler: (o: SyncOverview) => void): Promise<UnlistenFn> {
  return listen<SyncOverview>('sync-status', (event) => handler(event.payload));
}

export function onUpdateAvailable(handler: (u: UpdateInfo) => void): Promise<UnlistenFn> {
  return listen<UpdateInfo>('update-available', (event) => handler(event.payload));
}
