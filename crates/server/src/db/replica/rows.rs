//! Titles, copies, members and member types: last writer wins per row, a
//! delete leaves a tombstone and keeps newer versions aside, as on desks.

use super::{Applied, Fault, Replica, bad, stamp_of};
use crate::db::catalogue::Searched;
use crate::db::{Backend, Db, WriteTx};
use shelfkeeper_domain::model::Contributor;
use shelfkeeper_sync::schema::{self, Kind};
use shelfkeeper_sync::{Change, Entity, Stamp, merge};
use sqlx::Row;
use uuid::Uuid;

/// Where an entity lives on the server.
pub(super) struct Table {
    pub entity: Entity,
    pub name: &'static str,
    /// The column that must be unique among the library's live rows.
    pub unique: Option<&'static str>,
    /// Ids are unique per library only (default member types share theirs).
    pub per_library_id: bool,
}

pub(super) fn table(entity: Entity) -> Option<Table> {
    let t = |name, unique, per_library_id| Some(Table { entity, name, unique, per_library_id });
    match entity {
        Entity::Title => t("titles", None, false),
        Entity::Copy => t("copies", Some("barcode"), false),
        Entity::Member => t("members", Some("card"), false),
        Entity::MemberType => t("member_types", Some("code"), true),
        Entity::Event | Entity::ConflictResolution => None,
    }
}

/// Desk columns the server derives instead of storing.
fn stored(entity: Entity, column: &str) -> bool {
    !(entity == Entity::Member && column == "sort_name")
}

/// What the merge rules need to know before an upsert, in one query.
struct Known {
    tomb: Option<Stamp>,
    current: Option<Stamp>,
    /// The id is a row of another library.
    elsewhere: bool,
    has_title: bool,
    holder: Option<Uuid>,
    claimed: bool,
    has_events: bool,
}

fn ms_of(v: &serde_json::Value) -> Applied<Option<i64>> {
    match v.as_str() {
        None => Ok(None),
        Some(s) => match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(t) => Ok(Some(t.timestamp_millis())),
            Err(_) => bad(format!("'{s}' is not an RFC 3339 timestamp")),
        },
    }
}

impl Db {
    pub(super) async fn tombstone(&self, tx: &mut WriteTx, lib: &str, entity: Entity, id: &str) -> Applied<Option<Stamp>> {
        let r = sqlx::query("SELECT hlc, site FROM tombstones WHERE library_id = $1 AND entity = $2 AND entity_id = $3")
            .bind(lib)
            .bind(entity.as_str())
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        match r {
            Some(r) => stamp_of(r.try_get("hlc")?, r.try_get("site")?),
            None => Ok(None),
        }
    }

    pub(super) async fn row_stamp(&self, tx: &mut WriteTx, lib: &str, t: &Table, id: &str) -> Applied<Option<Stamp>> {
        let sql = format!("SELECT hlc, site FROM {} WHERE library_id = $1 AND id = $2", t.name);
        let r = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(lib).bind(id).fetch_optional(&mut **tx).await?;
        match r {
            Some(r) => stamp_of(r.try_get("hlc")?, r.try_get("site")?),
            None => Ok(None),
        }
    }

    async fn known(&self, tx: &mut WriteTx, lib: &str, t: &Table, c: &Change) -> Applied<Known> {
        let key = t.unique.and_then(|col| c.payload.get(col)).and_then(|v| v.as_str());
        let holder = match t.unique {
            Some(col) => format!("(SELECT id FROM {} WHERE library_id = $1 AND {col} = $4 AND id <> $2)", t.name),
            None => "NULL".into(),
        };
        let elsewhere = if t.per_library_id {
            "CAST(0 AS BIGINT)".to_owned()
        } else {
            format!("(SELECT COUNT(*) FROM {} WHERE id = $2 AND library_id <> $1)", t.name)
        };
        let sql = format!(
            "SELECT (SELECT hlc FROM tombstones WHERE library_id = $1 AND entity = $6 AND entity_id = $2) AS tomb_hlc, \
                    (SELECT site FROM tombstones WHERE library_id = $1 AND entity = $6 AND entity_id = $2) AS tomb_site, \
                    (SELECT hlc FROM {table} WHERE library_id = $1 AND id = $2) AS cur_hlc, \
                    (SELECT site FROM {table} WHERE library_id = $1 AND id = $2) AS cur_site, \
                    {elsewhere} AS elsewhere, \
                    (SELECT COUNT(*) FROM titles WHERE library_id = $1 AND id = $3) AS has_title, \
                    {holder} AS holder, \
                    (SELECT COUNT(*) FROM replica_conflicts WHERE library_id = $1 AND key = $5) AS claimed, \
                    (SELECT COUNT(*) FROM (SELECT 1 AS x FROM circulation_events WHERE copy_id = $2 LIMIT 1) e) AS has_events",
            table = t.name
        );
        let r = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(lib)
            .bind(c.entity_id.to_string())
            .bind(payload_id(&c.payload, "title_id").map(|u| u.to_string()))
            .bind(key)
            .bind(format!("key:{}", c.entity_id))
            .bind(c.entity.as_str())
            .fetch_one(&mut **tx)
            .await?;
        let holder: Option<String> = r.try_get("holder")?;
        Ok(Known {
            tomb: stamp_of(r.try_get("tomb_hlc")?, r.try_get("tomb_site")?)?,
            current: stamp_of(r.try_get("cur_hlc")?, r.try_get("cur_site")?)?,
            elsewhere: count(&r, "elsewhere")? > 0,
            has_title: count(&r, "has_title")? > 0,
            holder: holder.as_deref().map(Uuid::parse_str).transpose().map_err(|e| Fault::Db(sqlx::Error::Decode(Box::new(e))))?,
            claimed: count(&r, "claimed")? > 0,
            has_events: count(&r, "has_events")? > 0,
        })
    }

    pub(super) async fn apply_upsert(&self, tx: &mut WriteTx, r: &mut Replica, c: &Change) -> Applied<()> {
        let Some(t) = table(c.entity) else { return bad("not a row") };
        let lib = r.lib.clone();
        let known = self.known(tx, &lib, &t, c).await?;
        if known.elsewhere {
            return bad(format!("{} {} belongs to another library", c.entity.as_str(), c.entity_id));
        }
        let stamp = c.stamp();
        let orphan_copy = c.entity == Entity::Copy && !known.has_title;
        let replaces = match merge::upsert(known.tomb, known.current, orphan_copy, stamp) {
            merge::Upsert::Unchanged => return Ok(()),
            merge::Upsert::Keep => return self.keep_row(tx, r, c.entity, c.entity_id, stamp, &c.payload).await,
            merge::Upsert::Apply { replaces } => replaces,
        };
        let mut payload = c.payload.clone();
        if let Some(col) = t.unique {
            self.settle_duplicate_key(tx, r, &t, col, c.entity_id, stamp, &mut payload, known.holder, known.claimed).await?;
        }
        self.write_row(tx, &lib, &t, &payload, stamp).await?;
        if c.entity == Entity::Copy && !replaces && known.has_events {
            // Events that arrived before the copy row: its status comes from them.
            let titles = sqlx::query("SELECT DISTINCT title_id FROM circulation_events WHERE library_id = $1 AND copy_id = $2")
                .bind(&lib)
                .bind(c.entity_id.to_string())
                .fetch_all(&mut **tx)
                .await?;
            for row in titles {
                let id: String = row.try_get("title_id")?;
                r.dirty.extend(Uuid::parse_str(&id).ok());
            }
        }
        Ok(())
    }

    /// Writes a row version: the payload's columns, the stamp, and for a
    /// title the search texts the server derives.
    async fn write_row(&self, tx: &mut WriteTx, lib: &str, t: &Table, payload: &serde_json::Value, stamp: Stamp) -> Applied<()> {
        let cols: Vec<&schema::Column> = schema::columns(t.entity).iter().filter(|col| stored(t.entity, col.name)).collect();
        let mut names: Vec<&str> = vec!["library_id"];
        names.extend(cols.iter().map(|col| col.name));
        names.extend(["hlc", "site"]);
        let searched = if t.entity == Entity::Title {
            names.extend(["search_text", "title_text", "core_text"]);
            Some(title_texts(payload)?)
        } else {
            None
        };
        let marks = (1..=names.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let sets = names
            .iter()
            .filter(|n| !matches!(**n, "id" | "library_id"))
            .map(|n| format!("{n} = excluded.{n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let target = if t.per_library_id { "(library_id, id)" } else { "(id)" };
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES ({marks}) ON CONFLICT {target} DO UPDATE SET {sets} WHERE {table}.library_id = excluded.library_id",
            names.join(", "),
            table = t.name
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(lib.to_owned());
        for col in &cols {
            let v = payload.get(col.name).unwrap_or(&serde_json::Value::Null);
            q = match col.kind {
                Kind::Int => q.bind(v.as_i64()),
                Kind::Timestamp => q.bind(ms_of(v)?),
                Kind::Id => q.bind(v.as_str().and_then(|s| Uuid::parse_str(s).ok()).map(|u| u.to_string())),
                _ => q.bind(v.as_str().map(str::to_owned)),
            };
        }
        q = q.bind(stamp.hlc as i64).bind(stamp.site_id.to_string());
        if let Some((search, title_text, core_text)) = &searched {
            q = q.bind(search.clone()).bind(title_text.clone()).bind(core_text.clone());
        }
        let done = q.execute(&mut **tx).await?;
        if done.rows_affected() == 0 {
            return bad("the row belongs to another library");
        }
        if let (Some((search, ..)), Backend::Sqlite) = (&searched, self.backend) {
            let id = payload_id(payload, "id").map(|u| u.to_string());
            sqlx::query("DELETE FROM titles_search WHERE title_id = $1").bind(id.clone()).execute(&mut **tx).await?;
            sqlx::query("INSERT INTO titles_search (title_id, search_text) VALUES ($1, $2)")
                .bind(id)
                .bind(search.clone())
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    pub(super) async fn apply_delete(&self, tx: &mut WriteTx, r: &mut Replica, c: &Change) -> Applied<()> {
        let Some(t) = table(c.entity) else { return bad("not a row") };
        let lib = r.lib.clone();
        let id = c.entity_id.to_string();
        if !t.per_library_id {
            let sql = format!("SELECT COUNT(*) AS n FROM {} WHERE id = $1 AND library_id <> $2", t.name);
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&id).bind(&lib).fetch_one(&mut **tx).await?;
            if count(&row, "n")? > 0 {
                return bad(format!("{} {id} belongs to another library", c.entity.as_str()));
            }
        }
        let stamp = c.stamp();
        let tomb = self.tombstone(tx, &lib, c.entity, &id).await?;
        let current = self.row_stamp(tx, &lib, &t, &id).await?;
        let keep_current = match merge::delete(tomb, current, stamp) {
            merge::Delete::Unchanged => return Ok(()),
            merge::Delete::Apply { keep_current } => keep_current,
        };
        // Keyed by (entity, id): a delete sent under another entity leaves
        // its own tombstone and cannot freeze a row of this one.
        sqlx::query(
            "INSERT INTO tombstones (library_id, entity_id, entity, hlc, site) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (library_id, entity, entity_id) DO UPDATE SET hlc = excluded.hlc, site = excluded.site",
        )
        .bind(&lib)
        .bind(&id)
        .bind(c.entity.as_str())
        .bind(stamp.hlc as i64)
        .bind(stamp.site_id.to_string())
        .execute(&mut **tx)
        .await?;
        // A kept version older than the newest delete is just deleted.
        if let Some((kept, of)) = self.kept_version(tx, &lib, &format!("row:{id}")).await?
            && kept < stamp
            && of == c.entity.as_str()
        {
            self.drop_conflict(tx, &lib, &format!("row:{id}")).await?;
        }
        if current.is_none() {
            return Ok(());
        }
        if keep_current && let Some(version) = self.version_to_keep(tx, &lib, &t, &id).await? {
            self.keep_row(tx, r, c.entity, c.entity_id, current.unwrap_or(stamp), &version).await?;
        }
        if c.entity == Entity::Title {
            // Copies another desk added meanwhile: kept, not lost.
            let copies = sqlx::query("SELECT id, hlc, site FROM copies WHERE library_id = $1 AND title_id = $2")
                .bind(&lib)
                .bind(&id)
                .fetch_all(&mut **tx)
                .await?;
            let copies_table = table(Entity::Copy).expect("copies are rows");
            for row in copies {
                let copy: String = row.try_get("id")?;
                let copy_stamp = stamp_of(row.try_get("hlc")?, row.try_get("site")?)?.unwrap_or(stamp);
                if let Some(version) = self.version_to_keep(tx, &lib, &copies_table, &copy).await? {
                    let copy_id = Uuid::parse_str(&copy).map_err(|e| Fault::Db(sqlx::Error::Decode(Box::new(e))))?;
                    self.keep_row(tx, r, Entity::Copy, copy_id, copy_stamp, &version).await?;
                }
                sqlx::query("DELETE FROM copies WHERE library_id = $1 AND id = $2").bind(&lib).bind(&copy).execute(&mut **tx).await?;
            }
            if self.backend == Backend::Sqlite {
                sqlx::query("DELETE FROM titles_search WHERE title_id = $1").bind(&id).execute(&mut **tx).await?;
            }
        }
        let sql = format!("DELETE FROM {} WHERE library_id = $1 AND id = $2", t.name);
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&lib).bind(&id).execute(&mut **tx).await?;
        Ok(())
    }

    /// A row as a desk's payload, with the key it wanted if it gave one way.
    async fn version_to_keep(&self, tx: &mut WriteTx, lib: &str, t: &Table, id: &str) -> Applied<Option<serde_json::Value>> {
        let Some(mut payload) = Db::row_payload(tx, lib, t.entity, id).await? else { return Ok(None) };
        if let Some(col) = t.unique
            && let Some(wanted) = self.claimed_key(tx, lib, id).await?
        {
            payload[col] = serde_json::Value::from(wanted);
        }
        Ok(Some(payload))
    }

    /// Keeps a row version that a delete removed; the newest version wins.
    pub(super) async fn keep_row(
        &self,
        tx: &mut WriteTx,
        r: &Replica,
        entity: Entity,
        id: Uuid,
        stamp: Stamp,
        payload: &serde_json::Value,
    ) -> Applied<()> {
        let key = format!("row:{id}");
        if self.kept_version(tx, &r.lib, &key).await?.is_some_and(|(kept, of)| kept >= stamp || of != entity.as_str()) {
            // A newer version is kept, or the key is another entity's (a
            // hostile id reused across entities): as on desks, nothing changes.
            return Ok(());
        }
        self.drop_conflict(tx, &r.lib, &key).await?;
        sqlx::query(
            "INSERT INTO replica_conflicts (library_id, key, kind, entity, entity_id, hlc, site, payload, detected_at) \
             VALUES ($1, $2, 'kept_row', $3, $4, $5, $6, $7, $8)",
        )
        .bind(&r.lib)
        .bind(key)
        .bind(entity.as_str())
        .bind(id.to_string())
        .bind(stamp.hlc as i64)
        .bind(stamp.site_id.to_string())
        .bind(payload.to_string())
        .bind(r.now)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The stamp of a kept conflict `key` and the entity it is of.
    async fn kept_version(&self, tx: &mut WriteTx, lib: &str, key: &str) -> Applied<Option<(Stamp, String)>> {
        let r = sqlx::query("SELECT hlc, site, entity FROM replica_conflicts WHERE library_id = $1 AND key = $2")
            .bind(lib)
            .bind(key)
            .fetch_optional(&mut **tx)
            .await?;
        let Some(r) = r else { return Ok(None) };
        let entity: String = r.try_get("entity")?;
        Ok(stamp_of(r.try_get("hlc")?, r.try_get("site")?)?.map(|s| (s, entity)))
    }

    pub(super) async fn drop_conflict(&self, tx: &mut WriteTx, lib: &str, key: &str) -> Applied<()> {
        sqlx::query("DELETE FROM replica_conflicts WHERE library_id = $1 AND key = $2").bind(lib).bind(key).execute(&mut **tx).await?;
        Ok(())
    }
}

pub(super) fn count(r: &sqlx::any::AnyRow, col: &str) -> Applied<i64> {
    Ok(r.try_get::<i64, _>(col)?)
}

pub(super) use shelfkeeper_sync::schema::payload_uuid as payload_id;

/// A title payload's search texts, as REST computes them for its own writes.
fn title_texts(p: &serde_json::Value) -> Applied<(String, String, String)> {
    let text = |col: &str| p.get(col).and_then(|v| v.as_str());
    let list = |col: &str| -> Vec<String> { text(col).and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default() };
    let contributors: Vec<Contributor> = text("contributors").and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default();
    let (subjects, tags) = (list("subjects"), list("tags"));
    let Some(title) = text("title") else { return bad("a title needs its title") };
    let s = Searched {
        title,
        subtitle: text("subtitle"),
        people: contributors.iter().map(|c| c.name.as_str()).collect(),
        subjects: &subjects,
        tags: &tags,
        series: text("series"),
        publisher: text("publisher"),
        notes: text("notes"),
        isbn13: text("isbn13"),
    };
    let (title_text, core_text) = s.tier_texts();
    Ok((s.search_text(), title_text, core_text))
}
