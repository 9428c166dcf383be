// The types the commands exchange, generated from the Rust types by ts-rs
// (src-tauri/src/bindings.rs). Import types from here only.

export type { StoreMode } from './bindings/StoreMode';
export type { Role } from './bindings/Role';
export type { StoreInfo } from './bindings/StoreInfo';
export type { SessionInfo } from './bindings/SessionInfo';
export type { AppStatus } from './bindings/AppStatus';
export type { NewAdmin } from './bindings/NewAdmin';
export type { SortOrder } from './bindings/SortOrder';
export type { Filters } from './bindings/Filters';
export type { SearchRequest } from './bindings/SearchRequest';
export type { TitleHit } from './bindings/TitleHit';
export type { SearchPage } from './bindings/SearchPage';
export type { FacetValue } from './bindings/FacetValue';
export type { Facets } from './bindings/Facets';
export type { Contributor } from './bindings/Contributor';
export type { TitleDraft } from './bindings/TitleDraft';
export type { Title } from './bindings/Title';
export type { CopyStatus } from './bindings/CopyStatus';
export type { CopyDraft } from './bindings/CopyDraft';
export type { Copy } from './bindings/Copy';
export type { MemberDraft } from './bindings/MemberDraft';
export type { Member } from './bindings/Member';
export type { MemberType } from './bindings/MemberType';
export type { Loan } from './bindings/Loan';
export type { HoldStatus } from './bindings/HoldStatus';
export type { Hold } from './bindings/Hold';
export type { Review } from './bindings/Review';
export type { TitleDetail } from './bindings/TitleDetail';
export type { BackupFile } from './bindings/BackupFile';
export type { Account } from './bindings/Account';
export type { NewAccount } from './bindings/NewAccount';
export type { BackupFolder } from './bindings/BackupFolder';
export type { MemberDetail } from './bindings/MemberDetail';
export type { CheckoutReceipt } from './bindings/CheckoutReceipt';
export type { HoldNotice } from './bindings/HoldNotice';
export type { CheckinReceipt } from './bindings/CheckinReceipt';
export type { RenewReceipt } from './bindings/RenewReceipt';
export type { StoreStats } from './bindings/StoreStats';
export type { BackupReport } from './bindings/BackupReport';
export type { JobProgress } from './bindings/JobProgress';
export type { ErrorPayload } from './bindings/ErrorPayload';
export type { ErrorCode } from './bindings/ErrorCode';

/** The total of a search page (MatchCount in Rust). */
export type { MatchCount as SearchTotal } from './bindings/MatchCount';
