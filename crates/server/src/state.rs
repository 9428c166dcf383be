//! The shared state every handler gets: configuration, the database, token
//! keys, the password hasher, rate limits and the mailer.

use crate::auth::hasher::Hasher;
use crate::auth::jwt::Keys;
use crate::auth::links::LinkSigner;
use crate::auth::ratelimit::Limiter;
use crate::config::{Config, ConfigError};
use crate::db::{ConnectError, Db};
use crate::mail::Mailer;
use crate::telemetry;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub cfg: Config,
    pub db: Db,
    pub keys: Keys,
    pub links: LinkSigner,
    /// "Now" for the link expiries (shared with `links`; tests move it).
    pub clock: crate::time::Clock,
    pub hasher: Hasher,
    pub limiter: Limiter,
    pub mailer: Mailer,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Db(#[from] ConnectError),
    #[error("mail settings: {0}")]
    Mail(String),
    #[error("cannot listen on {addr}: {reason}")]
    Listen { addr: String, reason: String },
}

impl AppState {
    /// Opens the database (applying migrations) and builds the state.
    pub async fn new(cfg: Config) -> Result<AppState, StartError> {
        let url = cfg.resolved_database_url()?;
        let secret = cfg.resolved_token_secret()?;
        let db = Db::connect(&url).await?;
        let mailer = Mailer::new(&cfg.smtp).map_err(StartError::Mail)?;
        let clock = crate::time::Clock::default();
        Ok(AppState(Arc::new(Inner {
            keys: Keys::new(&secret, cfg.access_token_ttl_secs),
            links: LinkSigner::new(&secret, clock.clone()),
            clock,
            hasher: Hasher::new(cfg.hash_workers, Duration::from_millis(cfg.hash_queue_ms)),
            limiter: Limiter::default(),
            mailer,
            metrics: telemetry::metrics_handle(),
            db,
            cfg,
        })))
    }
}
