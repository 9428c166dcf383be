//! The domain's errors: what the rules refuse and what storage reports.
//! Each variant has a stable machine code (what the UI and API clients match
//! on) and a message written for the person at the desk: what happened and,
//! where it helps, what to do. Adapters keep their own errors (the sync
//! client's, the desktop's) and combine them with these at their boundary.

use chrono::NaiveDate;
use serde::Serialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    // --- input ---
    #[error("'{input}' is not a valid ISBN: {reason}")]
    InvalidIsbn { input: String, reason: String },
    #[error("'{input}' is not a valid ISBN: the check digit should be {expected}")]
    IsbnChecksum { input: String, expected: String },
    #[error("this file cannot be a cover: {0}")]
    InvalidCover(String),
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },

    // --- not found ---
    #[error("no title with id {0}")]
    TitleNotFound(String),
    #[error("no copy has barcode {0}")]
    CopyNotFound(String),
    #[error("no member has card {0}")]
    MemberNotFound(String),
    #[error("no member type '{0}'")]
    MemberTypeNotFound(String),
    #[error("no hold with id {0}")]
    HoldNotFound(String),
    #[error("no account named '{0}'")]
    AccountNotFound(String),

    // --- uniqueness ---
    #[error("barcode {0} is already used by another copy")]
    DuplicateBarcode(String),
    #[error("card {0} is already used by another member")]
    DuplicateCard(String),
    #[error("ISBN {isbn} is already in the catalogue as '{title}'; add a copy to it instead")]
    DuplicateIsbn { isbn: String, title: String },
    #[error("an account named '{0}' already exists")]
    DuplicateUsername(String),

    // --- circulation ---
    #[error("copy {barcode} is already on loan to member {card} until {due}")]
    CopyOnLoan { barcode: String, card: String, due: NaiveDate },
    #[error("copy {0} is not on loan")]
    CopyNotOnLoan(String),
    #[error("copy {0} is marked lost; check it in to mark it found first")]
    CopyLost(String),
    #[error("copy {barcode} is waiting on the hold shelf for member {card}")]
    CopyReservedForAnother { barcode: String, card: String },
    #[error("member {card} is blocked: {reason}")]
    MemberBlocked { card: String, reason: String },
    #[error("member {card}'s card expired on {expired}; renew the membership first")]
    MemberExpired { card: String, expired: NaiveDate },
    #[error("member {card} already has {limit} items on loan, the most their member type allows")]
    LoanLimitReached { card: String, limit: u32 },
    #[error("copy {barcode} has been renewed {limit} times, the most allowed")]
    RenewalLimitReached { barcode: String, limit: u32 },
    #[error("copy {0} cannot be renewed: another member is waiting for this title")]
    RenewalBlockedByHold(String),
    #[error("member {card} already has a hold on '{title}'")]
    HoldAlreadyPlaced { card: String, title: String },
    #[error("member {card} already has a copy of '{title}' on loan")]
    HoldOnTitleAlreadyBorrowed { card: String, title: String },
    #[error("'{0}' has no copies to place a hold on")]
    HoldOnTitleWithoutCopies(String),
    #[error("hold {0} is no longer active")]
    HoldNotActive(String),
    #[error("'{title}' still has {copies} copies; delete or move them first")]
    TitleHasCopies { title: String, copies: u32 },
    #[error("copy {0} is on loan or on the hold shelf; check it in first")]
    CopyInCirculation(String),
    #[error("member {card} still has {loans} items on loan")]
    MemberHasLoans { card: String, loans: u32 },

    // --- accounts ---
    #[error("wrong username or password")]
    InvalidCredentials,
    #[error("account '{0}' is disabled")]
    AccountDisabled(String),
    #[error("password: {0}")]
    WeakPassword(String),
    #[error("you need the {needed} role to {action}")]
    PermissionDenied { needed: &'static str, action: &'static str },
    /// An API key's scopes do not allow the action (its role would).
    #[error("this API key may not {action}: {why}")]
    KeyNotAllowed { action: &'static str, why: &'static str },
    #[error("this store already has an administrator; only an admin can add accounts")]
    AdminAlreadyExists,

    // --- reviews ---
    #[error("a rating is from 1 to 5, not {0}")]
    RatingOutOfRange(i64),

    // --- storage ---
    #[error("the store is busy with another writer; try again")]
    StoreBusy,
    #[error("the store at {path} could not be opened: {reason}")]
    StoreOpen { path: String, reason: String },
    #[error("the store was written by a newer Shelfkeeper (schema {found}, this version knows {known}); update Shelfkeeper")]
    StoreTooNew { found: i64, known: i64 },
    #[error("backup failed: {0}")]
    Backup(String),
    #[error("storage error: {0}")]
    Storage(String),
    #[error("the operation was cancelled")]
    Cancelled,

    // --- imports and look-ups ---
    #[error("no import {0}")]
    ImportNotFound(String),
    #[error("import {id} is {state}; {action} is not possible")]
    ImportState { id: String, state: String, action: &'static str },
    #[error("{0}")]
    ImportFile(String),
    #[error("{0}")]
    Lookup(String),
    #[error("export failed: {0}")]
    Export(String),

    // --- sync ---
    #[error("no sync conflict {0} is recorded here (it may have been settled by a later sync)")]
    ConflictNotFound(String),
}

/// The stable machine code of an [`Error`]. Serialised as snake_case; never
/// rename a code that has shipped, only add new ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidIsbn,
    IsbnChecksum,
    Invalid,
    TitleNotFound,
    CopyNotFound,
    MemberNotFound,
    MemberTypeNotFound,
    HoldNotFound,
    AccountNotFound,
    DuplicateBarcode,
    DuplicateCard,
    DuplicateIsbn,
    DuplicateUsername,
    CopyOnLoan,
    CopyNotOnLoan,
    CopyLost,
    CopyReservedForAnother,
    MemberBlocked,
    MemberExpired,
    LoanLimitReached,
    RenewalLimitReached,
    RenewalBlockedByHold,
    HoldAlreadyPlaced,
    HoldOnTitleAlreadyBorrowed,
    HoldOnTitleWithoutCopies,
    HoldNotActive,
    TitleHasCopies,
    CopyInCirculation,
    MemberHasLoans,
    InvalidCredentials,
    AccountDisabled,
    WeakPassword,
    PermissionDenied,
    AdminAlreadyExists,
    RatingOutOfRange,
    StoreBusy,
    StoreOpen,
    StoreTooNew,
    Backup,
    Storage,
    Cancelled,
    InvalidCover,
    ImportNotFound,
    ImportState,
    ImportFile,
    Lookup,
    Export,
    ConflictNotFound,
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(s)) => f.write_str(&s),
            _ => Err(std::fmt::Error),
        }
    }
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        use Error::*;
        match self {
            InvalidIsbn { .. } => ErrorCode::InvalidIsbn,
            IsbnChecksum { .. } => ErrorCode::IsbnChecksum,
            InvalidCover(_) => ErrorCode::InvalidCover,
            Invalid { .. } => ErrorCode::Invalid,
            TitleNotFound(_) => ErrorCode::TitleNotFound,
            CopyNotFound(_) => ErrorCode::CopyNotFound,
            MemberNotFound(_) => ErrorCode::MemberNotFound,
            MemberTypeNotFound(_) => ErrorCode::MemberTypeNotFound,
            HoldNotFound(_) => ErrorCode::HoldNotFound,
            AccountNotFound(_) => ErrorCode::AccountNotFound,
            DuplicateBarcode(_) => ErrorCode::DuplicateBarcode,
            DuplicateCard(_) => ErrorCode::DuplicateCard,
            DuplicateIsbn { .. } => ErrorCode::DuplicateIsbn,
            DuplicateUsername(_) => ErrorCode::DuplicateUsername,
            CopyOnLoan { .. } => ErrorCode::CopyOnLoan,
            CopyNotOnLoan(_) => ErrorCode::CopyNotOnLoan,
            CopyLost(_) => ErrorCode::CopyLost,
            CopyReservedForAnother { .. } => ErrorCode::CopyReservedForAnother,
            MemberBlocked { .. } => ErrorCode::MemberBlocked,
            MemberExpired { .. } => ErrorCode::MemberExpired,
            LoanLimitReached { .. } => ErrorCode::LoanLimitReached,
            RenewalLimitReached { .. } => ErrorCode::RenewalLimitReached,
            RenewalBlockedByHold(_) => ErrorCode::RenewalBlockedByHold,
            HoldAlreadyPlaced { .. } => ErrorCode::HoldAlreadyPlaced,
            HoldOnTitleAlreadyBorrowed { .. } => ErrorCode::HoldOnTitleAlreadyBorrowed,
            HoldOnTitleWithoutCopies(_) => ErrorCode::HoldOnTitleWithoutCopies,
            HoldNotActive(_) => ErrorCode::HoldNotActive,
            TitleHasCopies { .. } => ErrorCode::TitleHasCopies,
            CopyInCirculation(_) => ErrorCode::CopyInCirculation,
            MemberHasLoans { .. } => ErrorCode::MemberHasLoans,
            InvalidCredentials => ErrorCode::InvalidCredentials,
            AccountDisabled(_) => ErrorCode::AccountDisabled,
            WeakPassword(_) => ErrorCode::WeakPassword,
            PermissionDenied { .. } | KeyNotAllowed { .. } => ErrorCode::PermissionDenied,
            AdminAlreadyExists => ErrorCode::AdminAlreadyExists,
            RatingOutOfRange(_) => ErrorCode::RatingOutOfRange,
            StoreBusy => ErrorCode::StoreBusy,
            StoreOpen { .. } => ErrorCode::StoreOpen,
            StoreTooNew { .. } => ErrorCode::StoreTooNew,
            Backup(_) => ErrorCode::Backup,
            Storage(_) => ErrorCode::Storage,
            Cancelled => ErrorCode::Cancelled,
            ImportNotFound(_) => ErrorCode::ImportNotFound,
            ImportState { .. } => ErrorCode::ImportState,
            ImportFile(_) => ErrorCode::ImportFile,
            Lookup(_) => ErrorCode::Lookup,
            Export(_) => ErrorCode::Export,
            ConflictNotFound(_) => ErrorCode::ConflictNotFound,
        }
    }

    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Error::Invalid { field, message: message.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_snake_case_and_messages_name_the_facts() {
        let e = Error::CopyOnLoan { barcode: "B00123".into(), card: "M0042".into(), due: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap() };
        assert_eq!(e.code().to_string(), "copy_on_loan");
        assert_eq!(e.to_string(), "copy B00123 is already on loan to member M0042 until 2026-12-01");
        assert_eq!(serde_json::to_string(&e.code()).unwrap(), r#""copy_on_loan""#);
    }
}
