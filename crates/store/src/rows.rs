//! Conversions between domain values and their column forms: UUIDs as
//! 16-byte blobs, instants as RFC 3339 UTC text (sorts as it reads), dates
//! as YYYY-MM-DD.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use shelfkeeper_domain::{Error, Result};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).map_err(|e| Error::Storage(format!("bad timestamp '{s}' in store: {e}")))
}

pub fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub fn parse_date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| Error::Storage(format!("bad date '{s}' in store: {e}")))
}

/// Typed column access with storage errors instead of panics.
pub trait RowExt {
    fn text(&self, col: &str) -> Result<String>;
    fn opt_text(&self, col: &str) -> Result<Option<String>>;
    fn int(&self, col: &str) -> Result<i64>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>>;
    fn uuid(&self, col: &str) -> Result<Uuid>;
    fn opt_uuid(&self, col: &str) -> Result<Option<Uuid>>;
    fn instant(&self, col: &str) -> Result<DateTime<Utc>> {
        parse_ts(&self.text(col)?)
    }
    fn opt_instant(&self, col: &str) -> Result<Option<DateTime<Utc>>> {
        self.opt_text(col)?.as_deref().map(parse_ts).transpose()
    }
    fn day(&self, col: &str) -> Result<NaiveDate> {
        parse_date(&self.text(col)?)
    }
    fn opt_day(&self, col: &str) -> Result<Option<NaiveDate>> {
        self.opt_text(col)?.as_deref().map(parse_date).transpose()
    }
    fn json<T: serde::de::DeserializeOwned>(&self, col: &str) -> Result<T> {
        serde_json::from_str(&self.text(col)?).map_err(|e| Error::Storage(format!("bad JSON in column {col}: {e}")))
    }
}

fn col_err(col: &str, e: sqlx::Error) -> Error {
    Error::Storage(format!("column {col}: {e}"))
}

impl RowExt for SqliteRow {
    fn text(&self, col: &str) -> Result<String> {
        self.try_get(col).map_err(|e| col_err(col, e))
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        self.try_get(col).map_err(|e| col_err(col, e))
    }
    fn int(&self, col: &str) -> Result<i64> {
        self.try_get(col).map_err(|e| col_err(col, e))
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        self.try_get(col).map_err(|e| col_err(col, e))
    }
    fn uuid(&self, col: &str) -> Result<Uuid> {
        self.try_get(col).map_err(|e| col_err(col, e))
    }
    fn opt_uuid(&self, col: &str) -> Result<Option<Uuid>> {
        self.try_get(col).map_err(|e| col_err(col, e))
    }
}
