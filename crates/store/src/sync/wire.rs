//! The wire format's side of the store: which table each replicated entity
//! lives in, rows as change payloads and back, and site numbers.

use super::bad;
use crate::db_err;
use shelfkeeper_domain::Result;
use shelfkeeper_sync::schema::{self, Kind};
use shelfkeeper_sync::{Change, Entity, Op, Stamp};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Arguments, AssertSqlSafe, Row, SqliteConnection};
use std::collections::HashMap;
use uuid::Uuid;

/// A replicated table: its entity, its columns (the protocol's typed
/// schema, [`schema::columns`]) and its unique key.
pub(super) struct Spec {
    pub(super) entity: Entity,
    pub(super) table: &'static str,
    pub(super) cols: &'static [schema::Column],
    /// A column that must be unique among live rows.
    pub(super) unique: Option<&'static str>,
}

impl Spec {
    const fn new(entity: Entity, table: &'static str, cols: &'static [schema::Column], unique: Option<&'static str>) -> Spec {
        Spec { entity, table, cols, unique }
    }

    pub(super) fn names(&self) -> impl Iterator<Item = &'static str> {
        self.cols.iter().map(|c| c.name)
    }
}

pub(super) const TITLES: Spec = Spec::new(Entity::Title, "titles", schema::columns(Entity::Title), None);
pub(super) const COPIES: Spec = Spec::new(Entity::Copy, "copies", schema::columns(Entity::Copy), Some("barcode"));
pub(super) const MEMBERS: Spec = Spec::new(Entity::Member, "members", schema::columns(Entity::Member), Some("card"));
pub(super) const MEMBER_TYPES: Spec = Spec::new(Entity::MemberType, "member_types", schema::columns(Entity::MemberType), Some("code"));
pub(super) const EVENTS: Spec = Spec::new(Entity::Event, "circulation_events", schema::columns(Entity::Event), None);
pub(super) const RESOLUTIONS: Spec =
    Spec::new(Entity::ConflictResolution, "conflict_resolutions", schema::columns(Entity::ConflictResolution), None);

pub(super) fn spec(entity: Entity) -> &'static Spec {
    match entity {
        Entity::Title => &TITLES,
        Entity::Copy => &COPIES,
        Entity::Member => &MEMBERS,
        Entity::MemberType => &MEMBER_TYPES,
        Entity::Event => &EVENTS,
        Entity::ConflictResolution => &RESOLUTIONS,
    }
}

pub(super) fn select_sql(s: &Spec) -> String {
    let cols = s.names().map(|c| format!("t.{c}")).collect::<Vec<_>>().join(", ");
    format!("SELECT {cols}, t.hlc AS sync_hlc, s.id AS sync_site FROM {} t JOIN sites s ON s.no = t.site_no WHERE t.id = ?", s.table)
}

/// A row's columns as a change payload, and its stamp.
pub(super) fn row_payload(s: &Spec, r: &SqliteRow) -> Result<(serde_json::Value, Stamp)> {
    let mut map = serde_json::Map::new();
    for col in s.cols {
        let c = col.name;
        let v = match col.kind {
            Kind::Int => r.try_get::<Option<i64>, _>(c).map(|v| v.map(serde_json::Value::from)),
            Kind::Id => r.try_get::<Option<Uuid>, _>(c).map(|v| v.map(|u| serde_json::Value::from(u.to_string()))),
            _ => r.try_get::<Option<String>, _>(c).map(|v| v.map(serde_json::Value::from)),
        }
        .map_err(|e| bad(format!("{}.{c}: {e}", s.table)))?;
        map.insert(c.to_string(), v.unwrap_or(serde_json::Value::Null));
    }
    let hlc: i64 = r.try_get("sync_hlc").map_err(bad)?;
    let site: Uuid = r.try_get("sync_site").map_err(bad)?;
    Ok((serde_json::Value::Object(map), Stamp { hlc: hlc as u64, site_id: site }))
}

/// Binds a payload's columns, in the spec's order. The payload has passed
/// [`schema::check_payload`]; a value of the wrong kind is still refused.
pub(super) fn payload_args(s: &Spec, payload: &serde_json::Value) -> Result<SqliteArguments> {
    let mut args = SqliteArguments::default();
    add_payload(&mut args, s, payload)?;
    Ok(args)
}

/// [`payload_args`] onto arguments already begun (a multi-row insert).
pub(super) fn add_payload(args: &mut SqliteArguments, s: &Spec, payload: &serde_json::Value) -> Result<()> {
    for col in s.cols {
        let c = col.name;
        let v = payload.get(c).unwrap_or(&serde_json::Value::Null);
        let wrong = || bad(format!("{} column {c}: unexpected value {v}", s.entity.as_str()));
        let added = match col.kind {
            Kind::Int => args.add(if v.is_null() { None } else { Some(v.as_i64().ok_or_else(wrong)?) }),
            Kind::Id => {
                args.add(if v.is_null() { None } else { Some(Uuid::parse_str(v.as_str().ok_or_else(wrong)?).map_err(|_| wrong())?) })
            }
            _ => args.add(if v.is_null() { None } else { Some(v.as_str().ok_or_else(wrong)?.to_string()) }),
        };
        added.map_err(bad)?;
    }
    Ok(())
}

pub(super) use shelfkeeper_sync::schema::payload_uuid;

/// Site numbers (local) and site ids, both ways; new sites are interned.
pub(super) struct Sites {
    by_no: HashMap<i64, Uuid>,
    by_id: HashMap<Uuid, i64>,
}

impl Sites {
    pub(super) async fn load(conn: &mut SqliteConnection) -> Result<Sites> {
        let rows: Vec<(i64, Uuid)> = sqlx::query_as("SELECT no, id FROM sites").fetch_all(&mut *conn).await.map_err(db_err)?;
        Ok(Sites { by_no: rows.iter().copied().collect(), by_id: rows.iter().map(|(n, i)| (*i, *n)).collect() })
    }

    pub(super) async fn no(&mut self, conn: &mut SqliteConnection, id: Uuid) -> Result<i64> {
        if let Some(n) = self.by_id.get(&id) {
            return Ok(*n);
        }
        let n: i64 =
            sqlx::query_scalar("INSERT INTO sites (id) VALUES (?) RETURNING no").bind(id).fetch_one(&mut *conn).await.map_err(db_err)?;
        self.by_id.insert(id, n);
        self.by_no.insert(n, id);
        Ok(n)
    }

    pub(super) fn id(&self, no: i64) -> Result<Uuid> {
        self.by_no.get(&no).copied().ok_or_else(|| bad(format!("unknown site number {no}")))
    }
}

/// The state of one entity on this replica as a change: the live row, its
/// tombstone, or the event. `None`: this replica knows nothing of it.
pub(super) async fn current_change(conn: &mut SqliteConnection, sites: &Sites, entity: Entity, id: Uuid) -> Result<Option<Change>> {
    let s = spec(entity);
    let row = sqlx::query(AssertSqlSafe(select_sql(s))).bind(id).fetch_optional(&mut *conn).await.map_err(db_err)?;
    let change = |op, payload, stamp: Stamp| Change {
        change_id: Uuid::nil(),
        entity,
        entity_id: id,
        op,
        hlc: stamp.hlc,
        site_id: stamp.site_id,
        payload,
    };
    if let Some(r) = row {
        let (payload, stamp) = row_payload(s, &r)?;
        let op = if entity == Entity::Event { Op::Event } else { Op::Upsert };
        return Ok(Some(change(op, payload, stamp)));
    }
    if entity == Entity::Event {
        return Ok(None);
    }
    let tomb: Option<(i64, i64)> = sqlx::query_as("SELECT hlc, site_no FROM tombstones WHERE entity = ? AND entity_id = ?")
        .bind(entity.as_str())
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    match tomb {
        Some((hlc, site_no)) => {
            Ok(Some(change(Op::Delete, serde_json::Value::Null, Stamp { hlc: hlc as u64, site_id: sites.id(site_no)? })))
        }
        None => Ok(None),
    }
}
