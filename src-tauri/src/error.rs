//! The desk's one error, as a command answers it: `{code, message}`. A code
//! is the domain's ([`ErrorCode`]: the rules), the sync client's
//! ([`SyncErrorCode`]: keychain, connection, server) or the desktop's own
//! ([`DeskErrorCode`]: the open store, the session, settings, dialogs,
//! updates). Each kind lives with the part that raises it; they meet only
//! here. Never rename a code that has shipped.

use serde::Serialize;
use shelfkeeper_domain::Error;
use shelfkeeper_domain::error::ErrorCode;
use shelfkeeper_sync_client::{SyncClientError, SyncErrorCode, SyncFault};

/// Anything a command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error(transparent)]
    Domain(#[from] Error),
    #[error(transparent)]
    Sync(#[from] SyncFault),

    // --- the desktop session ---
    #[error("no store is open; create or open one first")]
    NoStore,
    #[error("log in first")]
    NotLoggedIn,
    #[error("{0}")]
    Desktop(String),

    // --- updates ---
    #[error("could not check for updates: {0}")]
    UpdateCheck(String),
    #[error("no update is waiting to be installed; check for updates first")]
    NoUpdate,
    #[error("the update could not be downloaded: {0}")]
    UpdateDownload(String),
    #[error("the update was refused because its signature does not match (the download is damaged or was tampered with): {0}")]
    UpdateSignature(String),
    #[error("the update was not installed because the store could not be backed up first: {0}")]
    UpdateBackup(String),
    #[error("the update could not be installed: {0}")]
    UpdateInstall(String),
}

pub type DeskResult<T> = Result<T, DeskError>;

impl From<SyncClientError> for DeskError {
    fn from(e: SyncClientError) -> Self {
        match e {
            SyncClientError::Domain(e) => DeskError::Domain(e),
            SyncClientError::Sync(f) => DeskError::Sync(f),
        }
    }
}

/// The desktop's own codes, serialised as snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum DeskErrorCode {
    NoStore,
    NotLoggedIn,
    Desktop,
    UpdateCheckFailed,
    NoUpdate,
    UpdateDownloadFailed,
    UpdateSignatureInvalid,
    UpdateBackupFailed,
    UpdateInstallFailed,
}

/// Any code a command may answer with: one string union in TypeScript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(untagged)]
pub enum CommandErrorCode {
    Domain(ErrorCode),
    Sync(SyncErrorCode),
    Desk(DeskErrorCode),
}

/// What a command rejects with.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct CommandError {
    pub code: CommandErrorCode,
    pub message: String,
}

impl DeskError {
    pub fn code(&self) -> CommandErrorCode {
        use DeskErrorCode as D;
        let desk = match self {
            DeskError::Domain(e) => return CommandErrorCode::Domain(e.code()),
            DeskError::Sync(f) => return CommandErrorCode::Sync(f.code()),
            DeskError::NoStore => D::NoStore,
            DeskError::NotLoggedIn => D::NotLoggedIn,
            DeskError::Desktop(_) => D::Desktop,
            DeskError::UpdateCheck(_) => D::UpdateCheckFailed,
            DeskError::NoUpdate => D::NoUpdate,
            DeskError::UpdateDownload(_) => D::UpdateDownloadFailed,
            DeskError::UpdateSignature(_) => D::UpdateSignatureInvalid,
            DeskError::UpdateBackup(_) => D::UpdateBackupFailed,
            DeskError::UpdateInstall(_) => D::UpdateInstallFailed,
        };
        CommandErrorCode::Desk(desk)
    }
}

impl From<DeskError> for CommandError {
    fn from(e: DeskError) -> Self {
        CommandError { code: e.code(), message: e.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(e: impl Into<DeskError>) -> serde_json::Value {
        serde_json::to_value(CommandError::from(e.into())).unwrap()
    }

    #[test]
    fn every_kind_answers_one_flat_code_and_message() {
        let domain = payload(Error::CopyNotFound("B1".into()));
        assert_eq!(domain, serde_json::json!({ "code": "copy_not_found", "message": "no copy has barcode B1" }));
        assert_eq!(payload(SyncFault::NotConnected)["code"], "not_connected");
        assert_eq!(payload(SyncClientError::from(Error::CopyLost("B2".into())))["code"], "copy_lost");
        assert_eq!(payload(DeskError::NoStore)["code"], "no_store");
        assert_eq!(payload(DeskError::UpdateSignature("bad".into()))["code"], "update_signature_invalid");
    }

    /// Every code of a string-union enum, from its TypeScript form.
    fn codes<T: ts_rs::TS>() -> Vec<String> {
        T::inline(&ts_rs::Config::new()).split('|').map(|c| c.trim().trim_matches('"').to_owned()).collect()
    }

    #[test]
    fn no_code_is_spelt_twice() {
        // The three kinds meet in one union: a code in two of them would
        // leave the UI unable to tell which part raised it.
        let mut all = [codes::<ErrorCode>(), codes::<SyncErrorCode>(), codes::<DeskErrorCode>()].concat();
        assert!(all.len() > 60 && all.iter().all(|c| !c.is_empty() && !c.contains(' ')), "{all:?}");
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "a code is in two kinds");
    }
}
