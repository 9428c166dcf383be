//! Where the desktop keeps its sign-in to the sync server: the operating
//! system's keychain (Secret Service on Linux, Keychain on macOS, Credential
//! Manager on Windows), through the `keyring` crate. Nothing secret is ever
//! written to the store, the settings file or a log.
//!
//! The calls block (D-Bus round trips on Linux), so async code runs them on
//! tokio's blocking pool.

use crate::error::SyncFault;

/// The keychain "service" every Shelfkeeper secret is filed under.
pub const SERVICE: &str = "org.shelfkeeper.desktop";

/// A place for secrets, by name. The real one is [`OsKeychain`]; tests of
/// pure logic may use [`MemorySecrets`].
pub trait Secrets: Send + Sync {
    fn get(&self, name: &str) -> Result<Option<String>, SyncFault>;
    fn set(&self, name: &str, secret: &str) -> Result<(), SyncFault>;
    /// Removing what is not there is not an error.
    fn delete(&self, name: &str) -> Result<(), SyncFault>;
}

/// The operating system's keychain.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsKeychain;

fn unavailable(e: keyring::Error) -> SyncFault {
    use keyring::Error as K;
    let why = match &e {
        K::NoDefaultStore => "the keychain service could not be started (on Linux: no Secret Service on the session bus)".to_owned(),
        K::NoStorageAccess(inner) => format!("the keychain is locked or refused access: {inner}"),
        K::PlatformFailure(inner) => format!("the keychain failed: {inner}"),
        other => other.to_string(),
    };
    SyncFault::KeychainUnavailable(why)
}

fn entry(name: &str) -> Result<keyring::Entry, SyncFault> {
    keyring::Entry::new(SERVICE, name).map_err(unavailable)
}

impl Secrets for OsKeychain {
    fn get(&self, name: &str) -> Result<Option<String>, SyncFault> {
        match entry(name)?.get_password() {
            Ok(s) => Ok(Some(s)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    fn set(&self, name: &str, secret: &str) -> Result<(), SyncFault> {
        entry(name)?.set_password(secret).map_err(unavailable)
    }

    fn delete(&self, name: &str) -> Result<(), SyncFault> {
        match entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

/// Secrets in memory: for unit tests of the logic around the keychain.
#[derive(Default)]
pub struct MemorySecrets(std::sync::Mutex<std::collections::HashMap<String, String>>);

impl Secrets for MemorySecrets {
    fn get(&self, name: &str) -> Result<Option<String>, SyncFault> {
        Ok(self.0.lock().map_err(|_| SyncFault::KeychainUnavailable("poisoned".into()))?.get(name).cloned())
    }

    fn set(&self, name: &str, secret: &str) -> Result<(), SyncFault> {
        self.0.lock().map_err(|_| SyncFault::KeychainUnavailable("poisoned".into()))?.insert(name.to_owned(), secret.to_owned());
        Ok(())
    }

    fn delete(&self, name: &str) -> Result<(), SyncFault> {
        self.0.lock().map_err(|_| SyncFault::KeychainUnavailable("poisoned".into()))?.remove(name);
        Ok(())
    }
}

/// Runs a keychain call off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    secrets: std::sync::Arc<dyn Secrets>,
    f: impl FnOnce(&dyn Secrets) -> Result<T, SyncFault> + Send + 'static,
) -> Result<T, SyncFault> {
    tokio::task::spawn_blocking(move || f(secrets.as_ref()))
        .await
        .map_err(|e| SyncFault::KeychainUnavailable(format!("the keychain call did not finish: {e}")))?
}
