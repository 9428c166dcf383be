//! Titles and copies of one library, and catalogue search with its facets.
//! Every write stamps the row with `(hlc, site)` and appends to
//! `server_changes` in the same transaction (`log_change`).

mod copies;
mod facets;
mod search;
mod titles;

pub use copies::CopyRow;
pub use facets::FACET_SAMPLE;
pub use search::{DENSE_MATCHES, HitRow, Search, Sort, like_escape};
pub(in crate::db) use titles::Searched;
pub use titles::TitleRow;

use super::{Db, WriteTx, now_ms};
use sqlx::Row;
use sqlx::any::AnyRow;

fn json_list<T: serde::de::DeserializeOwned>(row: &AnyRow, col: &str) -> Result<Vec<T>, sqlx::Error> {
    let s: String = row.try_get(col)?;
    serde_json::from_str(&s).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

impl Db {
    /// Appends a change to the library's feed (what sync will serve), in
    /// the transaction that made it.
    pub(in crate::db) async fn log_change(
        &self,
        tx: &mut WriteTx,
        lib: &str,
        entity: &str,
        id: &str,
        op: &str,
        hlc: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO server_changes (library_id, entity, entity_id, op, hlc, site, at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(lib)
            .bind(entity)
            .bind(id)
            .bind(op)
            .bind(hlc)
            .bind(&*self.site)
            .bind(now_ms())
            .execute(&mut **tx)
            .await?;
        self.feed_own(tx, lib, entity, id, op, hlc).await
    }
}

/// Loan history keeps what it refers to: such rows are not deleted.
/// JSON text of a list column.
fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}
