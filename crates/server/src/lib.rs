//! `shelfkeeper-server`: the central server. A REST API under `/api/v1`
//! (axum), storage on PostgreSQL or SQLite through one set of portable
//! queries (sqlx Any), accounts and tokens, libraries with per-library
//! roles. Rules come from `shelfkeeper-domain`; SQL lives in `db`.

pub mod app;
pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod extract;
pub mod mail;
pub mod net;
pub mod routes;
pub mod state;
pub mod telemetry;
pub mod time;

pub use app::{router, serve, shutdown_signal};
pub use config::Config;
pub use state::AppState;
