//! The sync client's errors: the domain's (a store call failed) or its own
//! (the keychain, the connection, the server's answer). Its codes live
//! here, not in the domain; the desktop and the CLI pass either kind on as
//! one `{code, message}`. Never rename a code that has shipped.

use serde::Serialize;
use shelfkeeper_domain::Error;

/// What went wrong on the sync client's side, with what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncFault {
    #[error(
        "no keychain is available to keep the sync server's sign-in ({0}). Start the desktop's keyring (GNOME Keyring or KWallet on Linux) and try again; nothing was saved"
    )]
    KeychainUnavailable(String),
    #[error("this store is not connected to a sync server; connect it in Settings → Sync")]
    NotConnected,
    #[error("the sync server cannot be reached: {0}. Work goes on here and syncs when it is back")]
    Offline(String),
    #[error("sign in to the sync server again: {0}")]
    SignIn(String),
    #[error("the sync server refused: {0}")]
    Refused(String),
}

/// The stable machine code of a [`SyncFault`], serialised as snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SyncErrorCode {
    KeychainUnavailable,
    NotConnected,
    SyncOffline,
    SyncSignIn,
    SyncRefused,
}

impl SyncFault {
    pub fn code(&self) -> SyncErrorCode {
        match self {
            SyncFault::KeychainUnavailable(_) => SyncErrorCode::KeychainUnavailable,
            SyncFault::NotConnected => SyncErrorCode::NotConnected,
            SyncFault::Offline(_) => SyncErrorCode::SyncOffline,
            SyncFault::SignIn(_) => SyncErrorCode::SyncSignIn,
            SyncFault::Refused(_) => SyncErrorCode::SyncRefused,
        }
    }
}

impl std::fmt::Display for SyncErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(s)) => f.write_str(&s),
            _ => Err(std::fmt::Error),
        }
    }
}

/// An error of the desk's sync: the domain's, or the client's own.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SyncClientError {
    #[error(transparent)]
    Domain(#[from] Error),
    #[error(transparent)]
    Sync(#[from] SyncFault),
}

impl SyncClientError {
    /// The code as the UI and scripts see it (`copy_on_loan`, `sync_offline`).
    pub fn code(&self) -> String {
        match self {
            SyncClientError::Domain(e) => e.code().to_string(),
            SyncClientError::Sync(f) => f.code().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_keep_the_names_that_shipped() {
        let shipped = [
            (SyncFault::KeychainUnavailable("x".into()), "keychain_unavailable"),
            (SyncFault::NotConnected, "not_connected"),
            (SyncFault::Offline("x".into()), "sync_offline"),
            (SyncFault::SignIn("x".into()), "sync_sign_in"),
            (SyncFault::Refused("x".into()), "sync_refused"),
        ];
        for (fault, code) in shipped {
            assert_eq!(SyncClientError::from(fault).code(), code);
        }
        assert_eq!(SyncClientError::from(Error::CopyNotFound("B1".into())).code(), "copy_not_found");
    }
}
