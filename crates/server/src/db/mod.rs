//! The server's storage: one `sqlx::AnyPool` over PostgreSQL or SQLite, with
//! portable SQL (`$1, $2` placeholders, TEXT ids, BIGINT instants and
//! flags) so one set of queries serves both. Each backend has its own
//! migration folder, embedded in the binary and applied on start.
//!
//! This module and `crates/store` are the only places that write SQL.

pub mod accounts;
pub mod catalogue;
pub mod circulation;
pub mod covers;
pub mod holds;
pub mod libraries;
pub mod members;
mod projection;
mod replica;
pub mod sessions;
pub mod snapshot;
pub mod sync;

use shelfkeeper_domain::clock::Hlc;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, Row, Transaction};
use std::sync::{Arc, Mutex};

static PG_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// SQLite has one writer: write transactions take turns here (so at most
    /// one pooled connection waits on the write lock and the rest serve reads).
    write_turn: Arc<tokio::sync::Mutex<()>>,
    /// This server's site id: the `site` of every row it writes.
    pub site: Arc<str>,
    /// The hybrid logical clock stamping writes (`hlc` columns).
    clock: Arc<Mutex<Hlc>>,
    /// Rung when a write added to a sync feed: wakes waiting pulls.
    pub feed_bell: Arc<sync::FeedBell>,
}

/// Why the database could not be opened ([`Db::connect`]).
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("database URL '{0}' is neither sqlite: nor postgres://")]
    Scheme(String),
    #[error("cannot connect to the database {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("cannot apply the database migrations: {0}")]
    Migrate(String),
}

/// Why a storage operation failed, in storage and domain terms. The HTTP
/// layer turns each into its answer (`impl From<DbError> for ApiError`).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The library has no such row (a title, copy, member…); `what` names it.
    #[error("no such {0}")]
    NotFound(&'static str),
    /// The write clashes with what is stored (a copy lent meanwhile, a row
    /// with circulation history, an account already linked); `code` is the
    /// stable snake_case code clients see.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// The row belongs to someone else and the caller may not take it over
    /// (a device registered to another account).
    #[error("{0}")]
    NotPermitted(&'static str),
    /// A domain rule refused the operation (duplicate ISBN, copy not on
    /// loan, …): the domain's own error and code.
    #[error(transparent)]
    Domain(#[from] shelfkeeper_domain::Error),
    /// Stored data that should be there is not, or does not parse: a bug
    /// or a damaged database, never the caller's fault.
    #[error("{0}")]
    Internal(String),
    /// The database itself failed (including lost write races).
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
}

pub type DbResult<T> = Result<T, DbError>;

impl DbError {
    /// A row read back right after writing it is missing.
    pub(crate) fn vanished(what: &str) -> DbError {
        DbError::Internal(format!("{what} vanished after write"))
    }
}

impl Db {
    /// Connects and applies the migrations of the URL's backend. A SQLite
    /// file is created when missing.
    pub async fn connect(url: &str) -> Result<Db, ConnectError> {
        sqlx::any::install_default_drivers();
        let shown = crate::config::redact_url(url);
        let (backend, url, max) = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned(), 16)
        } else if url.starts_with("sqlite:") {
            // mode=rwc creates the file; SQLite has one writer anyway, and a
            // few connections serve concurrent reads under WAL.
            let url = if url.contains('?') { url.to_owned() } else { format!("{url}?mode=rwc") };
            (Backend::Sqlite, url, 4)
        } else {
            return Err(ConnectError::Scheme(shown));
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL so readers never wait for the writer; a busy
                        // timeout so concurrent writers queue instead of failing.
                        sqlx::query("PRAGMA journal_mode = WAL").execute(&mut *conn).await?;
                        sqlx::query("PRAGMA busy_timeout = 5000").execute(&mut *conn).await?;
                        sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|e| ConnectError::Connect { url: shown.clone(), reason: connect_reason(&e, &url) })?;
        let migrator = match backend {
            Backend::Postgres => &PG_MIGRATIONS,
            Backend::Sqlite => &SQLITE_MIGRATIONS,
        };
        migrator.run(&pool).await.map_err(|e| ConnectError::Migrate(e.to_string()))?;
        let fail = |e: sqlx::Error| ConnectError::Migrate(format!("reading server state: {e}"));
        let site = shelfkeeper_domain::ids::SiteId::new().to_string();
        sqlx::query("INSERT INTO server_meta (key, value) VALUES ('site_id', $1) ON CONFLICT (key) DO NOTHING")
            .bind(&site)
            .execute(&pool)
            .await
            .map_err(fail)?;
        let site: String = sqlx::query("SELECT value FROM server_meta WHERE key = 'site_id'")
            .fetch_one(&pool)
            .await
            .map_err(fail)?
            .try_get("value")
            .map_err(fail)?;
        // Resume after every stamp the server issued or was pushed: a write
        // made after a restart must still win over a desk's earlier edit.
        // (A scan of the feed, once per start.)
        let last: Option<i64> = sqlx::query(
            "SELECT MAX(h) AS h FROM (SELECT MAX(hlc) AS h FROM server_changes UNION ALL SELECT MAX(hlc) AS h FROM sync_feed) AS stamps",
        )
        .fetch_one(&pool)
        .await
        .map_err(fail)?
        .try_get("h")
        .map_err(fail)?;
        let db = Db {
            pool,
            backend,
            write_turn: Arc::default(),
            site: site.into(),
            clock: Arc::new(Mutex::new(Hlc::from_i64(last.unwrap_or(0)))),
            feed_bell: Arc::default(),
        };
        db.rederive_member_type_ids().await.map_err(fail)?;
        // Feeds stored before the server applied pushes: applied now.
        db.catch_up_all().await.map_err(|e| ConnectError::Migrate(format!("applying the sync feeds: {e}")))?;
        Ok(db)
    }

    /// Starts a transaction that will write. On SQLite it waits for its turn
    /// (up to 10 s, then the pool-timeout error, a 503) and begins with
    /// `BEGIN IMMEDIATE`: a deferred transaction that reads and then writes
    /// can be refused the write lock at once (SQLITE_BUSY, no waiting), which
    /// under concurrent desks turned into 503s.
    pub async fn begin_write(&self) -> Result<WriteTx, sqlx::Error> {
        match self.backend {
            Backend::Postgres => Ok(WriteTx { tx: self.pool.begin().await?, _turn: None, fed: None }),
            Backend::Sqlite => {
                let turn = tokio::time::timeout(std::time::Duration::from_secs(10), self.write_turn.clone().lock_owned())
                    .await
                    .map_err(|_| sqlx::Error::PoolTimedOut)?;
                Ok(WriteTx { tx: self.pool.begin_with("BEGIN IMMEDIATE").await?, _turn: Some(turn), fed: None })
            }
        }
    }

    /// The next clock reading for a write: after every earlier one, and
    /// never behind the wall clock.
    pub fn tick(&self) -> i64 {
        let mut c = self.clock.lock().unwrap_or_else(|p| p.into_inner());
        *c = Hlc::tick(*c, now_ms().max(0) as u64);
        c.as_i64()
    }

    /// Moves the clock past a stamp pushed by a desk (already checked at
    /// the door to be at most a few minutes ahead), so the server's next
    /// write of the same row is newer and wins last-writer-wins everywhere.
    pub fn receive(&self, remote: u64) {
        let mut c = self.clock.lock().unwrap_or_else(|p| p.into_inner());
        *c = (*c).max(Hlc::from_i64(remote as i64));
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ())
    }
}

/// Why a connection failed, in words an operator can act on. TLS to
/// PostgreSQL is asked for with `sslmode=require|verify-ca|verify-full`
/// (rustls; `sslrootcert=FILE` names a private CA); when the server will
/// not speak TLS, say so rather than fall back to a clear connection.
fn connect_reason(e: &sqlx::Error, url: &str) -> String {
    let mode = url.split_once('?').and_then(|(_, q)| {
        q.split('&').find_map(|kv| kv.split_once('=').filter(|(k, _)| matches!(*k, "sslmode" | "ssl-mode")).map(|(_, v)| v.to_owned()))
    });
    match (e, mode) {
        (sqlx::Error::Tls(inner), Some(mode)) if inner.to_string().contains("does not support TLS") => format!(
            "the URL asks for TLS (sslmode={mode}) but the PostgreSQL server does not accept TLS connections; \
             turn on ssl in its postgresql.conf, or use sslmode=prefer or disable to allow an unencrypted connection"
        ),
        // A certificate refused shows up as an I/O error of the handshake.
        (e, Some(mode)) if matches!(e, sqlx::Error::Tls(_)) || e.to_string().contains("certificate") => {
            format!("TLS with the PostgreSQL server failed (sslmode={mode}): {e}; for a private CA set sslrootcert=FILE in the URL")
        }
        _ => e.to_string(),
    }
}

/// A write transaction (`Db::begin_write`); derefs to the connection as a
/// `Transaction` does. Dropped without `commit`, it rolls back.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// Set when the transaction added to a sync feed: its bell rings once
    /// the changes are visible (after commit).
    fed: Option<Arc<sync::FeedBell>>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await?;
        if let Some(bell) = self.fed {
            bell.ring();
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

/// Now, as stored: unix milliseconds.
/// Now, for events (`at` columns keep its milliseconds).
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(now_ms()).unwrap_or_default()
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Whether an error is a unique-constraint violation (PostgreSQL 23505,
/// SQLite 2067/1555), for turning races into clean conflicts.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => matches!(d.code().as_deref(), Some("23505") | Some("2067") | Some("1555")),
        _ => false,
    }
}
