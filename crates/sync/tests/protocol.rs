//! The wire format is a contract between desktops and servers of different
//! versions: these tests pin its JSON shape and the clock rules.

use serde_json::json;
use shelfkeeper_domain::clock::{Hlc, MAX_FORWARD_DRIFT_MS};
use shelfkeeper_sync::*;
use uuid::Uuid;

fn change(op: Op, payload: serde_json::Value) -> Change {
    let id = Uuid::parse_str("0190f5b0-0000-7000-8000-000000000001").unwrap();
    Change {
        change_id: Uuid::parse_str("0190f5b0-0000-7000-8000-0000000000cc").unwrap(),
        entity: if op == Op::Event { Entity::Event } else { Entity::Title },
        entity_id: id,
        op,
        hlc: hlc::from_parts(1_764_000_000_000, 3),
        site_id: Uuid::parse_str("0190f5b0-0000-7000-8000-0000000000aa").unwrap(),
        payload,
    }
}

#[test]
fn the_json_shape_is_stable() {
    let c = change(Op::Upsert, json!({"id": "0190f5b0-0000-7000-8000-000000000001", "title": "Dune"}));
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(
        v,
        json!({
            "change_id": "0190f5b0-0000-7000-8000-0000000000cc",
            "entity": "title",
            "entity_id": "0190f5b0-0000-7000-8000-000000000001",
            "op": "upsert",
            "hlc": 115_605_504_000_000_003u64,
            "site_id": "0190f5b0-0000-7000-8000-0000000000aa",
            "payload": {"id": "0190f5b0-0000-7000-8000-000000000001", "title": "Dune"}
        })
    );
    let back: Change = serde_json::from_value(v).unwrap();
    assert_eq!(back, c);
    let push = PushRequest { protocol: PROTOCOL_VERSION, site_id: c.site_id, changes: vec![c.clone()] };
    let resp = PushResponse { accepted: vec![Accepted { change_id: c.change_id, server_seq: 7 }], rejected: vec![] };
    assert!(resp.all_accepted(&push));
    assert_eq!(serde_json::to_value(&resp).unwrap(), json!({"accepted": [{"change_id": c.change_id, "server_seq": 7}], "rejected": []}));
    let pull = PullRequest { protocol: PROTOCOL_VERSION, after: 5, limit: 100 };
    let page = PullResponse { changes: vec![Sequenced { server_seq: 7, change: c }], high_water: 9, more: true };
    assert_eq!(page.cursor_after(&pull), 7);
    let empty = PullResponse { changes: vec![], high_water: 5, more: false };
    assert_eq!(empty.cursor_after(&pull), 5);
    for e in Entity::ALL {
        assert_eq!(Entity::parse(e.as_str()), Some(e));
        assert_eq!(serde_json::to_value(e).unwrap(), json!(e.as_str()));
    }
}

const ID: &str = "0190f5b0-0000-7000-8000-000000000001";

/// A title's payload as a desk sends it.
fn title_payload() -> serde_json::Value {
    json!({"id": ID, "title": "Dune", "subtitle": null, "sort_title": "dune", "contributors": "[{\"name\":\"Frank Herbert\",\"role\":\"author\"}]",
           "author_sort": "herbert, frank", "subjects": "[]", "tags": "[\"sf\"]", "series": null, "series_number": null,
           "language": "en", "publisher": null, "published": "1965", "pub_year": 1965, "pages": 412, "isbn13": "9780441172719",
           "lccn": null, "call_number": null, "notes": null, "cover_ref": null, "field_sources": "{}",
           "created_at": "2026-11-24T10:00:00.000Z", "updated_at": "2026-11-24T10:00:00.000Z"})
}

/// A check-out event's payload.
fn event_payload() -> serde_json::Value {
    json!({"id": ID, "stream_id": "0190f5b0-0000-7000-8000-000000000002", "kind": "checked_out",
           "title_id": "0190f5b0-0000-7000-8000-000000000003", "copy_id": "0190f5b0-0000-7000-8000-000000000002",
           "member_id": "0190f5b0-0000-7000-8000-000000000004", "hold_id": null, "due_on": "2026-12-16",
           "prev_event_id": null, "occurred_at": "2026-12-02T10:00:00Z", "actor_id": null})
}

#[test]
fn shapes_are_checked() {
    assert!(change(Op::Upsert, title_payload()).check_shape().is_ok());
    assert!(change(Op::Event, event_payload()).check_shape().is_ok());
    assert!(change(Op::Delete, serde_json::Value::Null).check_shape().is_ok());
    let mut other = title_payload();
    other["id"] = "0190f5b0-0000-7000-8000-000000000002".into();
    for bad in [
        change(Op::Upsert, other),
        change(Op::Upsert, serde_json::Value::Null),
        change(Op::Delete, json!({"id": ID})),
        Change { entity: Entity::Title, ..change(Op::Event, event_payload()) },
        Change { hlc: 0, ..change(Op::Upsert, title_payload()) },
    ] {
        assert_eq!(bad.check_shape().unwrap_err().code, RejectCode::Malformed, "{bad:?}");
    }
}

/// Every payload is checked against its entity's typed schema, with a
/// message that names the column: what the server refuses at the door and
/// what a desk quarantines.
#[test]
fn payloads_are_checked_against_the_typed_schema() {
    let with = |base: fn() -> serde_json::Value, col: &str, v: serde_json::Value| {
        let mut p = base();
        p[col] = v;
        p
    };
    let cases = [
        (Op::Upsert, with(title_payload, "title", json!(42)), "title column title: expected a string, got 42"),
        (Op::Upsert, with(title_payload, "title", json!("   ")), "title column title: must not be blank"),
        (Op::Upsert, with(title_payload, "sort_title", json!(null)), "title column sort_title: is required"),
        (Op::Upsert, with(title_payload, "pages", json!("412")), "title column pages: expected an integer"),
        (Op::Upsert, with(title_payload, "contributors", json!("[1]")), "title column contributors: not the expected JSON"),
        (Op::Upsert, with(title_payload, "tags", json!("{")), "title column tags: not the expected JSON"),
        (Op::Upsert, with(title_payload, "created_at", json!("yesterday")), "title column created_at: expected an RFC 3339"),
        (Op::Upsert, with(title_payload, "notes", json!("x".repeat(20_001))), "title column notes: longer than 20000"),
        (Op::Upsert, with(title_payload, "colour", json!("red")), "title has no column 'colour'"),
        (Op::Event, with(event_payload, "kind", json!("x")), "event column kind: unknown event kind 'x'"),
        (Op::Event, with(event_payload, "due_on", json!("16/12/2026")), "event column due_on: expected a date"),
        (Op::Event, with(event_payload, "member_id", json!("not-a-uuid")), "event column member_id: expected a UUID"),
        (Op::Event, with(event_payload, "occurred_at", json!(null)), "event column occurred_at: is required"),
    ];
    for (op, payload, expected) in cases {
        let r = change(op, payload).check_shape().unwrap_err();
        assert_eq!(r.code, RejectCode::Malformed);
        assert!(r.reason.contains(expected), "{} does not say {expected}", r.reason);
    }
    let member_type = |loan_days: i64| {
        json!({"id": ID, "code": "adult", "name": "Adult", "loan_days": loan_days, "max_renewals": 2, "max_loans": 10,
               "hold_pickup_days": 7})
    };
    let typed = |p| Change { entity: Entity::MemberType, ..change(Op::Upsert, p) };
    assert!(typed(member_type(21)).check_shape().is_ok());
    let r = typed(member_type(0)).check_shape().unwrap_err();
    assert!(r.reason.contains("member_type column loan_days: 0 is outside 1 to 365"), "{}", r.reason);
    // Every domain event kind is accepted.
    for kind in [
        "checked_out",
        "renewed",
        "checked_in",
        "marked_lost",
        "trapped_for_hold",
        "released_from_hold",
        "hold_placed",
        "hold_cancelled",
        "hold_expired",
    ] {
        assert!(change(Op::Event, with(event_payload, "kind", json!(kind))).check_shape().is_ok(), "{kind}");
    }
}

#[test]
fn the_clock_layout_is_the_domains() {
    for (ms, l) in [(0u64, 0u16), (1_764_000_000_000, 0), (1_764_000_000_000, 65_535), ((1 << 48) - 1, 7)] {
        let h = hlc::from_parts(ms, l);
        assert_eq!(h, Hlc::from_parts(ms, l).0);
        assert_eq!((hlc::wall_ms(h), hlc::logical(h)), (ms, l));
        assert_eq!(hlc::format(h), Hlc(h).to_string());
        assert_eq!(hlc::parse(&hlc::format(h)), Some(h));
        assert_eq!(hlc::parse(&h.to_string()), Some(h));
    }
    assert_eq!(hlc::MAX_FORWARD_DRIFT_MS, MAX_FORWARD_DRIFT_MS);
    assert_eq!(hlc::parse("x.1"), None);
    // The receive rule is the domain's.
    let (last, remote, now) = (hlc::from_parts(1_000, 3), hlc::from_parts(1_500, 7), 1_200);
    assert_eq!(hlc::receive(last, remote, now), Hlc::receive(Hlc(last), Hlc(remote), now).unwrap().0);
}

#[test]
fn drift_beyond_five_minutes_is_refused() {
    let now = 1_764_000_000_000;
    assert!(hlc::check_drift(hlc::from_parts(now + MAX_FORWARD_DRIFT_MS, 9), now).is_ok());
    let skew = hlc::check_drift(hlc::from_parts(now + MAX_FORWARD_DRIFT_MS + 1, 0), now).unwrap_err();
    assert_eq!(skew.ahead_ms(), MAX_FORWARD_DRIFT_MS + 1);
    assert!(skew.to_string().contains("300 s allowed"), "{skew}");
    let mut c = change(Op::Upsert, title_payload());
    c.hlc = hlc::from_parts(now + 10 * 60 * 1000, 0);
    assert_eq!(check_pushed(&c, c.site_id, now).unwrap_err().code, RejectCode::ClockSkew);
    c.hlc = hlc::from_parts(now, 0);
    assert!(check_pushed(&c, c.site_id, now).is_ok());
    assert_eq!(check_pushed(&c, Uuid::now_v7(), now).unwrap_err().code, RejectCode::Forbidden);
}

#[test]
fn stamps_order_by_clock_then_site() {
    let a = Uuid::parse_str("00000000-0000-7000-8000-000000000001").unwrap();
    let b = Uuid::parse_str("00000000-0000-7000-8000-000000000002").unwrap();
    assert!(Stamp { hlc: 1, site_id: b } < Stamp { hlc: 2, site_id: a });
    assert!(Stamp { hlc: 2, site_id: a } < Stamp { hlc: 2, site_id: b });
}
