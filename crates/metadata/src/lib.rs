//! Shelfkeeper's ISBN look-ups and cover downloads over HTTP. The caller
//! (the desktop, the CLI) keeps the cache in the store: this crate fetches,
//! parses and reports, and never writes a title.
//!
//! # Module map
//!
//! - [`Client`] (here) — the entry point: [`Client::lookup`],
//!   [`Client::lookup_provider`], [`Client::download_cover`].
//! - [`config`] — [`Config`]: per-provider base URL, enabled flag, order,
//!   timeout and retries; the look-up's deadline; body cap; cover limits.
//!   Serde with defaults pointing at the real services.
//! - [`model`] — [`Provider`], [`ProviderOutcome`], [`FoundRecord`] (a
//!   `TitleDraft`-shaped [`BookFields`] plus a cover URL), [`LookupReport`]
//!   with [`LookupReport::overall`] and [`LookupReport::merged`]
//!   ([`MergedRecord`], each field a [`Sourced`] value with its
//!   [`FieldSource`]). All serde + ts-rs; the report round-trips through
//!   JSON for the store's cache.
//! - `providers::{openlibrary, google, loc}` — each provider's URL and a
//!   pure parser of its answer (JSON with serde; MARCXML with quick-xml).
//! - `http` — the reqwest client (rustls with the ring provider and the
//!   platform's roots; user agent `Shelfkeeper/<version>`; no cookies; at
//!   most `max_redirects` redirects), capped streaming of bodies, retries.
//! - `cover` — URL, Content-Type and byte checks for covers.
//! - [`language`] — one spelling for language codes.
//! - [`error`] — [`ClientError`], [`CoverError`], each with `code()`.
//!
//! # Outcomes
//!
//! Each provider answers one [`ProviderOutcome`]:
//! `Found` (a record carrying the ISBN asked for), `NotFound` (the
//! provider's own "no such book", a 404, or records for other ISBNs —
//! never a silent match by title), `Offline` (connection refused, DNS,
//! timeout) or `ProviderError` (5xx or 429 after retries, another 4xx,
//! malformed JSON or XML, an SRU diagnostic, a body over the cap). The
//! report's [`Overall`] is `Found` if any found, `NotFound` if all said so,
//! `Offline` if none could be reached, else `ProviderError`.
//!
//! # Retry policy
//!
//! Offline answers, 5xx, 408 and 429 are retried, at most `retries` times
//! per provider (default 2, so 3 attempts), after `backoff_ms · 2^n` with
//! jitter (a random wait between half and all of it), or after the
//! `Retry-After` the server asked for when that is at most
//! `max_retry_after_ms` (a longer one ends the retries at once). Not
//! found, malformed answers, other 4xx and over-large bodies are never
//! retried. Every request has a timeout (`timeout_ms`, default 8 s for
//! connecting and reading the whole answer), and the whole look-up a
//! deadline (`deadline_ms`, default 20 s): no attempt runs past it, no
//! retry starts that would end after it. Providers are asked concurrently.
//!
//! # Languages
//!
//! Languages are ISO 639-1 two-letter codes where the language has one
//! ("en" from Google's "en", MARC's "eng" and Open Library's
//! "/languages/eng"), else the ISO 639-2/B code; see [`language`].

pub mod config;
mod cover;
pub mod error;
mod http;
pub mod language;
pub mod model;
mod providers;
mod text;

pub use config::{Config, CoverConfig, ProviderConfig};
pub use cover::MIN_COVER_BYTES;
pub use error::{ClientError, CoverError};
pub use http::USER_AGENT;
pub use model::{BookFields, FieldSource, FoundRecord, LookupReport, MergedRecord, Overall, Provider, ProviderOutcome, Sourced};

use chrono::Utc;
use http::{Failed, Failure, Http, Request};
use shelfkeeper_domain::isbn::Isbn;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const JSON: &str = "application/json";
const XML: &str = "application/xml, text/xml;q=0.9";
const IMAGES: &str = "image/webp, image/png, image/jpeg, image/gif;q=0.9";

/// Look-ups and cover downloads. Cheap to clone (one connection pool).
#[derive(Clone)]
pub struct Client {
    http: Http,
    config: Arc<Config>,
}

impl Client {
    /// Builds the HTTP client. Fails when TLS cannot be set up, no
    /// provider is enabled, or a base URL is not http(s).
    pub fn new(config: Config) -> Result<Client, ClientError> {
        let enabled = config.enabled_providers();
        if enabled.is_empty() {
            return Err(ClientError::NoProviderEnabled);
        }
        for p in enabled {
            let url = config.base_url(p);
            if !(url.starts_with("http://") || url.starts_with("https://")) || reqwest::Url::parse(url).is_err() {
                return Err(ClientError::BadBaseUrl { provider: p.as_str(), url: url.to_string() });
            }
        }
        Ok(Client { http: Http::new(&config)?, config: Arc::new(config) })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Asks every enabled provider at once and reports each answer, in
    /// priority order. Returns by the configured deadline (plus a few
    /// milliseconds) whatever the providers do.
    pub async fn lookup(&self, isbn: &Isbn) -> LookupReport {
        let fetched_at = Utc::now();
        let deadline = Instant::now() + self.config.deadline();
        let providers = self.config.enabled_providers();
        let ask = |p: Provider| {
            let enabled = providers.contains(&p);
            async move { if enabled { Some((p, self.ask(p, isbn, deadline).await)) } else { None } }
        };
        let all = async { tokio::join!(ask(Provider::OpenLibrary), ask(Provider::GoogleBooks), ask(Provider::LibraryOfCongress)) };
        // The requests obey the deadline themselves; this is the backstop.
        let answers = match tokio::time::timeout_at(deadline + Duration::from_millis(250), all).await {
            Ok((a, b, c)) => vec![a, b, c],
            Err(_) => vec![],
        };
        let outcomes = providers
            .iter()
            .map(|p| {
                let outcome = answers.iter().flatten().find(|(q, _)| q == p).map(|(_, o)| o.clone());
                (*p, outcome.unwrap_or_else(|| ProviderOutcome::Offline("no answer before the look-up's deadline".into())))
            })
            .collect();
        LookupReport { isbn13: isbn.isbn13().to_string(), fetched_at, outcomes }
    }

    /// Asks one provider (enabled or not), with the look-up's deadline.
    pub async fn lookup_provider(&self, provider: Provider, isbn: &Isbn) -> ProviderOutcome {
        self.ask(provider, isbn, Instant::now() + self.config.deadline()).await
    }

    async fn ask(&self, provider: Provider, isbn: &Isbn, deadline: Instant) -> ProviderOutcome {
        let base = self.config.base_url(provider);
        let (url, accept) = match provider {
            Provider::OpenLibrary => (providers::openlibrary::url(base, isbn), JSON),
            Provider::GoogleBooks => (providers::google::url(base, isbn), JSON),
            Provider::LibraryOfCongress => (providers::loc::url(base, isbn), XML),
        };
        let pc = self.config.provider(provider);
        let req = Request {
            url: &url,
            accept,
            timeout: Duration::from_millis(pc.timeout_ms),
            retries: pc.retries,
            deadline,
            max_bytes: self.config.max_body_bytes,
            check_type: None,
        };
        let body = match self.http.get(&req).await {
            Ok(body) => body,
            Err(failed) => return outcome_of_failure(provider, &failed),
        };
        let fetched_at = Utc::now();
        match provider {
            Provider::OpenLibrary => providers::openlibrary::parse(&body.bytes, isbn, fetched_at),
            Provider::GoogleBooks => providers::google::parse(&body.bytes, isbn, fetched_at),
            Provider::LibraryOfCongress => providers::loc::parse(&body.bytes, isbn, fetched_at),
        }
    }

    /// Downloads a cover image: http(s) only, `image/*` only, at most
    /// `shelfkeeper_domain::cover::MAX_COVER_BYTES` (declared and streamed),
    /// and the bytes must be JPEG, PNG, WebP or GIF whatever the header
    /// said. Placeholders (under [`MIN_COVER_BYTES`], or 1 pixel wide or
    /// high) are [`CoverError::NotFound`]. Retried like look-ups.
    pub async fn download_cover(&self, url: &str) -> Result<Vec<u8>, CoverError> {
        let parsed = cover::prepare_url(url).map_err(CoverError::InvalidUrl)?;
        let cc = &self.config.covers;
        let timeout = Duration::from_millis(cc.timeout_ms);
        let req = Request {
            url: parsed.as_str(),
            accept: IMAGES,
            timeout,
            retries: cc.retries,
            // A download's own deadline: every attempt and back-off.
            deadline: Instant::now() + timeout * (cc.retries + 1) + Duration::from_millis(self.config.max_retry_after_ms),
            max_bytes: cover::MAX_BYTES,
            check_type: Some(cover::check_content_type),
        };
        let body = self.http.get(&req).await.map_err(|f| match f.failure {
            Failure::Status { status: 404 | 410, .. } => CoverError::NotFound,
            Failure::Offline(_) => CoverError::Offline(f.describe()),
            Failure::TooLarge { limit } => CoverError::TooLarge { limit_kib: limit / 1024 },
            Failure::WrongType(m) => CoverError::NotAnImage(m),
            Failure::Status { .. } | Failure::Other(_) => CoverError::ProviderError(f.describe()),
        })?;
        match cover::judge(&body.bytes) {
            cover::Verdict::Cover => Ok(body.bytes),
            cover::Verdict::Placeholder => Err(CoverError::NotFound),
            cover::Verdict::NotAnImage(m) => Err(CoverError::NotAnImage(m)),
        }
    }
}

fn outcome_of_failure(provider: Provider, f: &Failed) -> ProviderOutcome {
    match f.failure {
        Failure::Status { status: 404, .. } => ProviderOutcome::not_found(),
        Failure::Offline(_) => ProviderOutcome::Offline(format!("{provider}: {}", f.describe())),
        _ => ProviderOutcome::ProviderError(format!("{provider}: {}", f.describe())),
    }
}
