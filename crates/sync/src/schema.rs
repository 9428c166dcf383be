//! The typed schema of every change: which columns each entity's payload
//! carries and what each may hold.
//!
//! One definition for both ends. The server checks every pushed change with
//! [`check_payload`] before it enters the feed (a change a desk could not
//! apply never reaches one), and a desk checks every pulled change the same
//! way before applying it (a change that still fails — from a newer or older
//! version, or a corrupt feed — is quarantined, never a reason to stop). The
//! store binds payloads to its tables through [`columns`], so a column a
//! change carries is a column this schema names.

use serde_json::Value;
use shelfkeeper_domain::circulation::EventKind;
use shelfkeeper_domain::model::Contributor;
use shelfkeeper_domain::provenance::FieldSources;
use uuid::Uuid;

use crate::Entity;

/// How a column travels and is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// TEXT: a JSON string or null.
    Text,
    /// INTEGER: a JSON integer or null.
    Int,
    /// A UUID (stored as a 16-byte blob): a UUID string or null.
    Id,
    /// A calendar day, `YYYY-MM-DD` (stored as text).
    Date,
    /// An RFC 3339 timestamp (stored as text).
    Timestamp,
    /// A JSON document kept as its exact text (stored as text).
    Json(JsonShape),
}

impl Kind {
    /// Stored as SQLite TEXT.
    pub fn is_text(self) -> bool {
        matches!(self, Kind::Text | Kind::Date | Kind::Timestamp | Kind::Json(_))
    }
}

/// What a JSON column's text must parse as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonShape {
    /// `[{"name", "role"}]` (the domain's `Contributor`).
    Contributors,
    /// `["…"]`.
    Strings,
    /// The domain's `FieldSources`.
    FieldSources,
}

/// Further rules for a column's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    None,
    /// Text with something besides white space.
    NonBlank,
    /// An integer in this range (inclusive).
    Range(i64, i64),
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// A circulation event kind the domain knows.
    EventKind,
}

/// One replicated column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    /// NOT NULL in the store: the payload must carry a value.
    pub required: bool,
    pub rule: Rule,
}

/// The longest text a column may hold, in characters (notes and the like;
/// the domain's own limits are smaller). Bounds what a push can store.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// The longest JSON column, in bytes.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

const fn col(name: &'static str, kind: Kind) -> Column {
    Column { name, kind, required: false, rule: Rule::None }
}
const fn req(name: &'static str, kind: Kind) -> Column {
    Column { name, kind, required: true, rule: Rule::None }
}
const fn ruled(name: &'static str, kind: Kind, rule: Rule) -> Column {
    Column { name, kind, required: true, rule }
}

use Kind::{Date, Id, Int, Json, Text, Timestamp};

const TITLE: &[Column] = &[
    req("id", Id),
    ruled("title", Text, Rule::NonBlank),
    col("subtitle", Text),
    req("sort_title", Text),
    req("contributors", Json(JsonShape::Contributors)),
    req("author_sort", Text),
    req("subjects", Json(JsonShape::Strings)),
    req("tags", Json(JsonShape::Strings)),
    col("series", Text),
    col("series_number", Text),
    col("language", Text),
    col("publisher", Text),
    col("published", Text),
    col("pub_year", Int),
    col("pages", Int),
    col("isbn13", Text),
    col("lccn", Text),
    col("call_number", Text),
    col("notes", Text),
    col("cover_ref", Text),
    req("field_sources", Json(JsonShape::FieldSources)),
    req("created_at", Timestamp),
    req("updated_at", Timestamp),
];

const COPY: &[Column] = &[
    req("id", Id),
    req("title_id", Id),
    ruled("barcode", Text, Rule::NonBlank),
    col("location", Text),
    col("shelf", Text),
    col("condition", Text),
    col("acquired_on", Date),
    col("price_cents", Int),
    col("currency", Text),
    col("provenance", Text),
    col("notes", Text),
    req("created_at", Timestamp),
    req("updated_at", Timestamp),
];

const MEMBER: &[Column] = &[
    req("id", Id),
    ruled("card", Text, Rule::NonBlank),
    ruled("name", Text, Rule::NonBlank),
    req("sort_name", Text),
    col("email", Text),
    col("phone", Text),
    col("address", Text),
    req("member_type", Text),
    col("expires_on", Date),
    ruled("blocked", Int, Rule::Range(0, 1)),
    col("block_reason", Text),
    col("notes", Text),
    req("created_at", Timestamp),
    req("updated_at", Timestamp),
];

/// The domain's limits (`MemberType::validate`).
const MEMBER_TYPE: &[Column] = &[
    req("id", Id),
    ruled("code", Text, Rule::NonBlank),
    req("name", Text),
    ruled("loan_days", Int, Rule::Range(1, 365)),
    ruled("max_renewals", Int, Rule::Range(0, 100)),
    ruled("max_loans", Int, Rule::Range(1, 1000)),
    ruled("hold_pickup_days", Int, Rule::Range(1, 60)),
];

const EVENT: &[Column] = &[
    req("id", Id),
    req("stream_id", Id),
    ruled("kind", Text, Rule::EventKind),
    req("title_id", Id),
    col("copy_id", Id),
    col("member_id", Id),
    col("hold_id", Id),
    col("due_on", Date),
    col("prev_event_id", Id),
    req("occurred_at", Timestamp),
    col("actor_id", Id),
];

const CONFLICT_RESOLUTION: &[Column] = &[
    req("id", Id),
    ruled("conflict_key", Text, Rule::NonBlank),
    ruled("conflict_hlc", Int, Rule::Range(1, i64::MAX)),
    req("conflict_site", Id),
    ruled("action", Text, Rule::OneOf(&["acknowledged", "discarded"])),
    req("note", Text),
    req("resolved_by", Text),
    req("resolved_at", Timestamp),
];

/// The columns an entity's payload carries, in the store's order (derived
/// columns — counters, copy status, search keys — are not sent).
pub const fn columns(entity: Entity) -> &'static [Column] {
    match entity {
        Entity::Title => TITLE,
        Entity::Copy => COPY,
        Entity::Member => MEMBER,
        Entity::MemberType => MEMBER_TYPE,
        Entity::Event => EVENT,
        Entity::ConflictResolution => CONFLICT_RESOLUTION,
    }
}

/// Checks an upsert's or event's payload against the entity's columns:
/// an object with no unknown column, every value of its column's kind and
/// rule, every required column present. The error names the column.
pub fn check_payload(entity: Entity, payload: &Value) -> Result<(), String> {
    let Some(map) = payload.as_object() else { return Err("the payload must be an object of columns".into()) };
    let cols = columns(entity);
    if let Some(unknown) = map.keys().find(|k| !cols.iter().any(|c| c.name == k.as_str())) {
        let mut shown: String = unknown.chars().take(64).collect();
        if shown.len() < unknown.len() {
            shown.push('…');
        }
        return Err(format!("{} has no column '{shown}'", entity.as_str()));
    }
    for c in cols {
        let v = map.get(c.name).unwrap_or(&Value::Null);
        check_value(c, v).map_err(|why| format!("{} column {}: {why}", entity.as_str(), c.name))?;
    }
    Ok(())
}

fn check_value(c: &Column, v: &Value) -> Result<(), String> {
    if v.is_null() {
        return if c.required { Err("is required".into()) } else { Ok(()) };
    }
    let shown = || {
        let mut s = v.to_string();
        if s.len() > 80 {
            s.truncate(s.floor_char_boundary(80));
            s.push('…');
        }
        s
    };
    if c.kind.is_text() {
        let Some(s) = v.as_str() else { return Err(format!("expected a string, got {}", shown())) };
        return check_text(c, s);
    }
    match c.kind {
        Kind::Int => {
            let Some(n) = v.as_i64() else { return Err(format!("expected an integer, got {}", shown())) };
            match c.rule {
                Rule::Range(lo, hi) if !(lo..=hi).contains(&n) => Err(format!("{n} is outside {lo} to {hi}")),
                _ => Ok(()),
            }
        }
        Kind::Id => match v.as_str().map(Uuid::parse_str) {
            Some(Ok(_)) => Ok(()),
            _ => Err(format!("expected a UUID, got {}", shown())),
        },
        _ => unreachable!("text kinds are checked above"),
    }
}

fn check_text(c: &Column, s: &str) -> Result<(), String> {
    match c.kind {
        Kind::Json(shape) => {
            if s.len() > MAX_JSON_BYTES {
                return Err(format!("longer than {MAX_JSON_BYTES} bytes"));
            }
            let parsed = match shape {
                JsonShape::Contributors => serde_json::from_str::<Vec<Contributor>>(s).map(drop),
                JsonShape::Strings => serde_json::from_str::<Vec<String>>(s).map(drop),
                JsonShape::FieldSources => serde_json::from_str::<FieldSources>(s).map(drop),
            };
            return parsed.map_err(|e| format!("not the expected JSON: {e}"));
        }
        Kind::Date => {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| "expected a date, YYYY-MM-DD".to_string())?;
        }
        Kind::Timestamp => {
            chrono::DateTime::parse_from_rfc3339(s).map_err(|_| "expected an RFC 3339 timestamp".to_string())?;
        }
        _ => {}
    }
    if s.chars().count() > MAX_TEXT_CHARS {
        return Err(format!("longer than {MAX_TEXT_CHARS} characters"));
    }
    match c.rule {
        Rule::NonBlank if s.trim().is_empty() => Err("must not be blank".into()),
        Rule::OneOf(allowed) if !allowed.contains(&s) => Err(format!("'{s}' is not one of {}", allowed.join(", "))),
        Rule::EventKind if EventKind::parse(s).is_none() => Err(format!("unknown event kind '{}'", s.chars().take(40).collect::<String>())),
        _ => Ok(()),
    }
}

/// A UUID column of a payload (`None`: absent, null or not a UUID).
pub fn payload_uuid(payload: &Value, col: &str) -> Option<Uuid> {
    payload.get(col).and_then(|v| v.as_str()).and_then(|s| Uuid::parse_str(s).ok())
}

/// An event change's payload as the domain's event, for the projection:
/// what the desk and the server both apply. The error says what is wrong.
pub fn event_of(id: Uuid, p: &Value) -> Result<shelfkeeper_domain::circulation::Event, String> {
    use shelfkeeper_domain::ids::{CopyId, EventId, HoldId, MemberId, TitleId};
    let text = |col: &str| p.get(col).and_then(|v| v.as_str());
    let kind = text("kind").unwrap_or_default();
    let kind = EventKind::parse(kind).ok_or_else(|| format!("event {id}: unknown kind '{kind}'"))?;
    let title_id = payload_uuid(p, "title_id").ok_or_else(|| format!("event {id} without title"))?;
    let occurred = text("occurred_at").ok_or_else(|| format!("event {id} without time"))?;
    let occurred_at = chrono::DateTime::parse_from_rfc3339(occurred)
        .map_err(|e| format!("event {id}: bad timestamp '{occurred}': {e}"))?
        .with_timezone(&chrono::Utc);
    let due_on = text("due_on")
        .map(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|e| format!("event {id}: bad date '{d}': {e}")))
        .transpose()?;
    Ok(shelfkeeper_domain::circulation::Event {
        id: EventId(id),
        kind,
        title_id: TitleId(title_id),
        copy_id: payload_uuid(p, "copy_id").map(CopyId),
        member_id: payload_uuid(p, "member_id").map(MemberId),
        hold_id: payload_uuid(p, "hold_id").map(HoldId),
        due_on,
        occurred_at,
    })
}
