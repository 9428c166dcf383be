//! Where the desktop keeps its sign-in to the sync server: the operating
//! system's keychain (Secret Service on Linux, Keychain on macOS, Credential
//! Manager on Windows), through the `keyring` crate. Nothing secret is ever
//! written to the store, the settings file or a log.
//!
//! The calls block (D-Bus round trips on Linux), so async code runs them on
//! tokio's blocking pool.

use shelfkeeper_domain::Error;

/// The keychain "service" every Shelfkeeper secret is filed under.
pub const SERVICE: &str = "org.shelfkeeper.desktop";

/// A place for secrets, by name. The real one is [`OsKeychain`]; tests of
/// pure logic may use [`MemorySecrets`].
pub trait Secrets: Send + Sync {
    fn get(&self, name: &str) -> Result<Option<String>, Error>;
    fn set(&self, name: &str, secret: &str) -> Result<(), Error>;
    /// Removing what is not there is not an error.
    fn delete(&self, name: &str) -> Result<(), Error>;
}

/// The operating system's keychain.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsKeychain;

fn unavailable(e: keyring::Error) -> Error {
    use keyring::Error as K;
    let why = match &e {
        K::NoDefaultStore => "the keychain service could not be started (on Linux: no Secret Service on the session bus)".to_owned(),
        K::NoStorageAccess(inner) => format!("the keychain is locked or refused access: {inner}"),
        K::PlatformFailure(inner) => format!("the keychain failed: {inner}"),
        other => other.to_string(),
    };
    Error::KeychainUnavailable(why)
}

fn entry(name: &str) -> Result<keyring::Entry, Error> {
    keyring::Entry::new(SERVICE, name).map_err(unavailable)
}

impl Secrets for OsKeychain {
    fn get(&self, name: &str) -> Result<Option<String>, Error> {
        match entry(name)?.get_password() {
            Ok(s) => Ok(Some(s)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    fn set(&self, name: &str, secret: &str) -> Result<(), Error> {
        entry(name)?.set_password(secret).map_err(unavailable)
    }

    fn delete(&self, name: &str) -> Result<(), Error> {
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
    fn get(&self, name: &str) -> Result<Option<String>, Error> {
        Ok(self.0.lock().map_err(|_| Error::KeychainUnavailable("poisoned".into()))?.get(name).cloned())
    }

    fn set(&self, name: &str, secret: &str) -> Result<(), Error> {
        self.0.lock().map_err(|_| Error::KeychainUnavailable("poisoned".into()))?.insert(name.to_owned(), secret.to_owned());
        Ok(())
    }

    fn delete(&self, name: &str) -> Result<(), Error> {
        self.0.lock().map_err(|_| Error::KeychainUnavailable("poisoned".into()))?.remove(name);
        Ok(())
    }
}

/// Runs a keychain call off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    secrets: std::sync::Arc<dyn Secrets>,
    f: impl FnOnce(&dyn Secrets) -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(move || f(secrets.as_ref()))
        .await
        .map_err(|e| Error::KeychainUnavailable(format!("the keychain call did not finish: {e}")))?
}
