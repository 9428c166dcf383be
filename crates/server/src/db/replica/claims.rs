//! Unique keys (barcodes, cards, member-type codes) wanted by several live
//! rows of a library: the smallest id holds the key, the others claim it
//! (`shelfkeeper_sync::merge::key`), exactly as on desks.

use super::rows::{Table, table};
use super::{Applied, Fault, Replica, stamp_of};
use crate::db::{Db, WriteTx};
use shelfkeeper_sync::merge::{self, renamed_key};
use shelfkeeper_sync::{Entity, Stamp};
use sqlx::Row;
use uuid::Uuid;

impl Db {
    /// Before an upsert that wants `col`'s key: the incoming row renames
    /// itself, or the row holding the key gives way.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn settle_duplicate_key(
        &self,
        tx: &mut WriteTx,
        r: &Replica,
        t: &Table,
        col: &str,
        id: Uuid,
        stamp: Stamp,
        payload: &mut serde_json::Value,
        holder: Option<Uuid>,
        claimed: bool,
    ) -> Applied<()> {
        if claimed {
            // A newer version of a row that gave way: its claim ends.
            self.drop_conflict(tx, &r.lib, &format!("key:{id}")).await?;
        }
        let Some(key) = payload.get(col).and_then(|v| v.as_str()).map(str::to_owned) else { return Ok(()) };
        match merge::key(&key, id, holder) {
            merge::Key::Take => Ok(()),
            merge::Key::Rename { to } => {
                payload[col] = serde_json::Value::from(to);
                self.claim(tx, r, t.entity, id, &key, stamp).await
            }
            merge::Key::OtherGivesWay { holder, .. } => self.give_way(tx, r, t, col, holder, &key).await,
        }
    }

    /// Renames a live row that holds `key` for a smaller id that wants it.
    async fn give_way(&self, tx: &mut WriteTx, r: &Replica, t: &Table, col: &str, holder: Uuid, key: &str) -> Applied<()> {
        let stamp =
            self.row_stamp(tx, &r.lib, t, &holder.to_string()).await?.ok_or_else(|| Fault::Change("renaming a row that is gone".into()))?;
        let sql = format!("UPDATE {} SET {col} = $1 WHERE library_id = $2 AND id = $3", t.name);
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(renamed_key(key, holder))
            .bind(&r.lib)
            .bind(holder.to_string())
            .execute(&mut **tx)
            .await?;
        self.claim(tx, r, t.entity, holder, key, stamp).await
    }

    async fn claim(&self, tx: &mut WriteTx, r: &Replica, entity: Entity, id: Uuid, key: &str, stamp: Stamp) -> Applied<()> {
        let k = format!("key:{id}");
        self.drop_conflict(tx, &r.lib, &k).await?;
        sqlx::query(
            "INSERT INTO replica_conflicts (library_id, key, kind, entity, entity_id, hlc, site, detail, detected_at) \
             VALUES ($1, $2, 'duplicate_key', $3, $4, $5, $6, $7, $8)",
        )
        .bind(&r.lib)
        .bind(k)
        .bind(entity.as_str())
        .bind(id.to_string())
        .bind(stamp.hlc as i64)
        .bind(stamp.site_id.to_string())
        .bind(key)
        .bind(r.now)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The key a renamed row wanted, if it gave one way.
    pub(super) async fn claimed_key(&self, tx: &mut WriteTx, lib: &str, id: &str) -> Applied<Option<String>> {
        let r = sqlx::query("SELECT detail FROM replica_conflicts WHERE library_id = $1 AND key = $2")
            .bind(lib)
            .bind(format!("key:{id}"))
            .fetch_optional(&mut **tx)
            .await?;
        Ok(r.map(|r| r.try_get("detail")).transpose()?)
    }

    /// Brings every claim in line with the rows as they now are: a claim
    /// of a row that is gone or has a newer version ends; a claimed key no
    /// live row holds goes back to the smallest claimant; a larger id
    /// holding it gives way.
    pub(super) async fn settle_claims(&self, tx: &mut WriteTx, r: &Replica) -> Applied<()> {
        for entity in [Entity::Copy, Entity::Member, Entity::MemberType] {
            let t = table(entity).expect("rows");
            let col = t.unique.expect("keyed");
            let rows = sqlx::query(
                "SELECT entity_id, detail, hlc, site FROM replica_conflicts WHERE library_id = $1 AND kind = 'duplicate_key' AND entity = $2",
            )
            .bind(&r.lib)
            .bind(entity.as_str())
            .fetch_all(&mut **tx)
            .await?;
            let mut claims = Vec::with_capacity(rows.len());
            for row in rows {
                let id: String = row.try_get("entity_id")?;
                let Ok(id) = Uuid::parse_str(&id) else { continue };
                let stamp = stamp_of(row.try_get("hlc")?, row.try_get("site")?)?;
                claims.push((id, row.try_get::<Option<String>, _>("detail")?.unwrap_or_default(), stamp));
            }
            claims.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            for (id, key, claimed_at) in claims {
                let sql = format!("SELECT {col} AS k, hlc, site FROM {} WHERE library_id = $1 AND id = $2", t.name);
                let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&r.lib).bind(id.to_string()).fetch_optional(&mut **tx).await?;
                let still_renamed = match row {
                    Some(row) => {
                        let held: String = row.try_get("k")?;
                        held == renamed_key(&key, id) && stamp_of(row.try_get("hlc")?, row.try_get("site")?)? == claimed_at
                    }
                    None => false,
                };
                let holder = if still_renamed {
                    let sql = format!("SELECT id FROM {} WHERE library_id = $1 AND {col} = $2", t.name);
                    let h = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&r.lib).bind(&key).fetch_optional(&mut **tx).await?;
                    h.map(|h| h.try_get::<String, _>("id")).transpose()?.and_then(|s| Uuid::parse_str(&s).ok())
                } else {
                    None
                };
                match merge::settle_claim(id, still_renamed, holder) {
                    merge::Claim::Stand => continue,
                    merge::Claim::End => {
                        self.drop_conflict(tx, &r.lib, &format!("key:{id}")).await?;
                        continue;
                    }
                    merge::Claim::TakeBack { holder_gives_way: Some(h) } => self.give_way(tx, r, &t, col, h, &key).await?,
                    merge::Claim::TakeBack { holder_gives_way: None } => {}
                }
                let sql = format!("UPDATE {} SET {col} = $1 WHERE library_id = $2 AND id = $3", t.name);
                sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&key).bind(&r.lib).bind(id.to_string()).execute(&mut **tx).await?;
                self.drop_conflict(tx, &r.lib, &format!("key:{id}")).await?;
            }
        }
        Ok(())
    }
}
