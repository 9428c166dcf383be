//! Black-box tests of `shelfkeeper-server`: the real router on port 0 over
//! real databases (SQLite files and fresh PostgreSQL databases), real SMTP
//! to an in-test sink, real HTTP. Each body runs against both backends.

mod support;

mod auth;
mod catalogue;
mod circulation;
mod covers;
mod holds;
mod libraries;
mod mail;
mod matrix;
mod modules;
mod openapi;
mod ops;
mod replica;
mod snapshot;
mod storage;
mod sync;
