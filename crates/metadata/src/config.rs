//! Settings for look-ups and cover downloads. Every field has a default, so
//! `{}` (or an empty TOML table) is the real services with sensible limits.

use crate::model::Provider;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Bodies of JSON and XML answers larger than this are refused.
pub const DEFAULT_MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub open_library: ProviderConfig,
    pub google_books: ProviderConfig,
    pub library_of_congress: ProviderConfig,
    /// A whole look-up ends by then, whatever its providers are doing:
    /// retries are not started and requests are cut at the deadline.
    pub deadline_ms: u64,
    /// First back-off before a retry; it doubles each attempt, with jitter
    /// (a random wait between half and all of it).
    pub backoff_ms: u64,
    /// A `Retry-After` longer than this is not waited for: the provider is
    /// reported as failing (rate limited) instead.
    pub max_retry_after_ms: u64,
    /// Cap on a JSON or XML answer's body.
    pub max_body_bytes: usize,
    /// Redirects followed per request.
    pub max_redirects: usize,
    pub covers: CoverConfig,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderConfig {
    pub enabled: bool,
    /// Scheme, host and path prefix; the provider's path and query follow.
    /// `None`: the real service ([`Provider::default_base_url`]).
    pub base_url: Option<String>,
    /// Priority for merging: lower comes first. `None`: Open Library 1,
    /// Google Books 2, Library of Congress 3. Ties keep that order.
    pub order: Option<u32>,
    /// Per request: connecting, sending and reading the whole answer.
    pub timeout_ms: u64,
    /// Retries after the first attempt (offline, 5xx, 429 only).
    pub retries: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CoverConfig {
    pub timeout_ms: u64,
    pub retries: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            open_library: ProviderConfig::default(),
            google_books: ProviderConfig::default(),
            library_of_congress: ProviderConfig::default(),
            deadline_ms: 20_000,
            backoff_ms: 500,
            max_retry_after_ms: 10_000,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_redirects: 5,
            covers: CoverConfig::default(),
        }
    }
}

impl Default for ProviderConfig {
    fn default() -> Self {
        ProviderConfig { enabled: true, base_url: None, order: None, timeout_ms: 8_000, retries: 2 }
    }
}

impl Provider {
    /// The real service.
    pub fn default_base_url(self) -> &'static str {
        match self {
            Provider::OpenLibrary => "https://openlibrary.org",
            Provider::GoogleBooks => "https://www.googleapis.com",
            // The catalogue's SRU server answers over plain HTTP only.
            Provider::LibraryOfCongress => "http://lx2.loc.gov:210/lcdb",
        }
    }

    fn default_order(self) -> u32 {
        match self {
            Provider::OpenLibrary => 1,
            Provider::GoogleBooks => 2,
            Provider::LibraryOfCongress => 3,
        }
    }
}

impl Default for CoverConfig {
    fn default() -> Self {
        CoverConfig { timeout_ms: 8_000, retries: 2 }
    }
}

impl Config {
    pub fn provider(&self, p: Provider) -> &ProviderConfig {
        match p {
            Provider::OpenLibrary => &self.open_library,
            Provider::GoogleBooks => &self.google_books,
            Provider::LibraryOfCongress => &self.library_of_congress,
        }
    }

    pub fn provider_mut(&mut self, p: Provider) -> &mut ProviderConfig {
        match p {
            Provider::OpenLibrary => &mut self.open_library,
            Provider::GoogleBooks => &mut self.google_books,
            Provider::LibraryOfCongress => &mut self.library_of_congress,
        }
    }

    /// The base URL in force for a provider, without a trailing slash.
    pub fn base_url(&self, p: Provider) -> &str {
        self.provider(p).base_url.as_deref().unwrap_or(p.default_base_url()).trim_end_matches('/')
    }

    /// Enabled providers, highest priority first.
    pub fn enabled_providers(&self) -> Vec<Provider> {
        let mut out: Vec<Provider> = Provider::ALL.into_iter().filter(|p| self.provider(*p).enabled).collect();
        out.sort_by_key(|p| self.provider(*p).order.unwrap_or(p.default_order()));
        out
    }

    pub fn deadline(&self) -> Duration {
        Duration::from_millis(self.deadline_ms)
    }

    /// Points every provider at one server (a test fixture, a proxy):
    /// `{root}/openlibrary`, `{root}/google`, `{root}/loc`.
    pub fn with_root(mut self, root: &str) -> Self {
        let root = root.trim_end_matches('/');
        self.open_library.base_url = Some(format!("{root}/openlibrary"));
        self.google_books.base_url = Some(format!("{root}/google"));
        self.library_of_congress.base_url = Some(format!("{root}/loc"));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_the_defaults_and_unknown_keys_are_refused() {
        let c: Config = serde_json::from_str("{}").unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.enabled_providers(), Provider::ALL.to_vec());
        let c: Config = serde_json::from_str(r#"{"google_books":{"enabled":false},"library_of_congress":{"order":0}}"#).unwrap();
        assert_eq!(c.enabled_providers(), vec![Provider::LibraryOfCongress, Provider::OpenLibrary]);
        assert_eq!(c.base_url(Provider::GoogleBooks), "https://www.googleapis.com", "a partial table keeps the other defaults");
        assert_eq!(c.google_books.timeout_ms, 8_000);
        assert!(serde_json::from_str::<Config>(r#"{"open_libary":{}}"#).is_err());
    }
}
