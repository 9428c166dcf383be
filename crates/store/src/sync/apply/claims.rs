//! Unique keys (barcodes, cards, member-type codes) wanted by several live
//! rows: the smallest id holds the key, the others claim it.

use super::Apply;
use super::rows::Known;
use crate::db_err;
use crate::sync::bad;
use crate::sync::wire::{COPIES, MEMBER_TYPES, MEMBERS, Spec};
use shelfkeeper_domain::Result;
use shelfkeeper_sync::Stamp;
use shelfkeeper_sync::merge::{self, renamed_key};
use sqlx::{AssertSqlSafe, SqliteConnection};
use uuid::Uuid;

impl Apply {
    async fn row_stamp(&self, conn: &mut SqliteConnection, s: &Spec, id: Uuid) -> Result<Option<Stamp>> {
        let sql = format!("SELECT hlc, site_no FROM {} WHERE id = ?", s.table);
        let r: Option<(i64, i64)> = sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *conn).await.map_err(db_err)?;
        r.map(|(hlc, no)| Ok(Stamp { hlc: hlc as u64, site_id: self.sites.id(no)? })).transpose()
    }

    /// Two live rows may not share a barcode, card or code. Among the live
    /// rows that want one key, the smallest id holds it; the others hold
    /// `<key>~<id tail>` and a `duplicate_key` conflict (the claim) keeps
    /// the key they want and the row version that wants it. A claim ends
    /// when its row gets a newer version (here, or a local edit: the person
    /// took the new key), or gets the key back ([`Apply::settle_claims`]).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn settle_duplicate_key(
        &mut self,
        conn: &mut SqliteConnection,
        s: &Spec,
        col: &str,
        id: Uuid,
        stamp: Stamp,
        payload: &mut serde_json::Value,
        known: &Known,
    ) -> Result<()> {
        if known.claimed {
            sqlx::query("DELETE FROM sync_conflicts WHERE key = ?").bind(format!("key:{id}")).execute(&mut *conn).await.map_err(db_err)?;
        }
        let Some(key) = payload.get(col).and_then(|v| v.as_str()).map(str::to_string) else { return Ok(()) };
        match merge::key(&key, id, known.holder) {
            merge::Key::Take => Ok(()),
            merge::Key::Rename { to } => {
                payload[col] = serde_json::Value::from(to);
                self.claim(conn, s, id, &key, stamp).await
            }
            merge::Key::OtherGivesWay { holder, .. } => self.give_way(conn, s, col, holder, &key).await,
        }
    }

    /// Renames a live row that holds `key` for a smaller id that wants it.
    async fn give_way(&mut self, conn: &mut SqliteConnection, s: &Spec, col: &str, holder: Uuid, key: &str) -> Result<()> {
        self.freeze(conn, s.entity, holder).await?;
        let stamp = self.row_stamp(conn, s, holder).await?.ok_or_else(|| bad("renaming a row that is gone"))?;
        let sql = format!("UPDATE {} SET {col} = ? WHERE id = ?", s.table);
        sqlx::query(AssertSqlSafe(sql)).bind(renamed_key(key, holder)).bind(holder).execute(&mut *conn).await.map_err(db_err)?;
        self.claim(conn, s, holder, key, stamp).await
    }

    async fn claim(&mut self, conn: &mut SqliteConnection, s: &Spec, id: Uuid, key: &str, stamp: Stamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO sync_conflicts (key, kind, entity, entity_id, hlc, site_id, detail, detected_at)
             VALUES (?, 'duplicate_key', ?, ?, ?, ?, ?, ?)
             ON CONFLICT (key) DO UPDATE SET hlc = excluded.hlc, site_id = excluded.site_id, detail = excluded.detail",
        )
        .bind(format!("key:{id}"))
        .bind(s.entity.as_str())
        .bind(id)
        .bind(stamp.hlc as i64)
        .bind(stamp.site_id)
        .bind(key)
        .bind(&self.now)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
        self.report.conflicts += 1;
        Ok(())
    }

    /// A kept version of a renamed row keeps the key it wanted.
    pub(super) async fn wanted(&self, conn: &mut SqliteConnection, s: &Spec, id: Uuid, payload: &mut serde_json::Value) -> Result<()> {
        let Some(col) = s.unique else { return Ok(()) };
        let key: Option<String> = sqlx::query_scalar("SELECT detail FROM sync_conflicts WHERE key = ?")
            .bind(format!("key:{id}"))
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?;
        if let Some(key) = key {
            payload[col] = serde_json::Value::from(key);
        }
        Ok(())
    }

    /// Brings every claim in line with the rows as they are now (after the
    /// page, and after local deletes and edits since the last page): a
    /// claim of a row that is gone, or that has a newer version, ends; a
    /// claimed key no live row holds goes back to the smallest claimant; a
    /// larger id holding it gives way.
    pub(super) async fn settle_claims(&mut self, conn: &mut SqliteConnection) -> Result<()> {
        for s in [&COPIES, &MEMBERS, &MEMBER_TYPES] {
            let col = s.unique.unwrap_or("id");
            let claims: Vec<(Uuid, String, i64, Uuid)> = sqlx::query_as(
                "SELECT entity_id, detail, hlc, site_id FROM sync_conflicts WHERE kind = 'duplicate_key' AND entity = ? ORDER BY entity_id",
            )
            .bind(s.entity.as_str())
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?;
            for (id, key, hlc, site) in claims {
                let sql = format!("SELECT {col}, hlc, site_no FROM {} WHERE id = ?", s.table);
                let row: Option<(String, i64, i64)> =
                    sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *conn).await.map_err(db_err)?;
                let still_renamed = match row {
                    Some((held, h, no)) => held == renamed_key(&key, id) && h == hlc && self.sites.id(no)? == site,
                    None => false,
                };
                let holder: Option<Uuid> = if still_renamed {
                    let sql = format!("SELECT id FROM {} WHERE {col} = ?", s.table);
                    sqlx::query_scalar(AssertSqlSafe(sql)).bind(&key).fetch_optional(&mut *conn).await.map_err(db_err)?
                } else {
                    None
                };
                match merge::settle_claim(id, still_renamed, holder) {
                    merge::Claim::Stand => continue,
                    merge::Claim::End => {
                        sqlx::query("DELETE FROM sync_conflicts WHERE key = ?")
                            .bind(format!("key:{id}"))
                            .execute(&mut *conn)
                            .await
                            .map_err(db_err)?;
                        continue;
                    }
                    merge::Claim::TakeBack { holder_gives_way: Some(h) } => self.give_way(conn, s, col, h, &key).await?,
                    merge::Claim::TakeBack { holder_gives_way: None } => {}
                }
                let sql = format!("UPDATE {} SET {col} = ? WHERE id = ?", s.table);
                sqlx::query(AssertSqlSafe(sql)).bind(&key).bind(id).execute(&mut *conn).await.map_err(db_err)?;
                sqlx::query("DELETE FROM sync_conflicts WHERE key = ?")
                    .bind(format!("key:{id}"))
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
            }
        }
        Ok(())
    }
}
