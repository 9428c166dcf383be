//! Sync through the real server: the protocol's routes, their checks, the
//! server's own writes reaching desktops, and a simulation of desktop
//! stores (real SQLite files) syncing through the HTTP transport.
//!
//! `SK_SERVER_SYNC_SEEDS=500 cargo test -p shelfkeeper-server --test it sync::simulation`
//! runs more seeds (default 100 per backend; each ends comparing the
//! server's library with a desk's, `replica::assert_server_matches`).

use crate::both;
use crate::support::{Backend, Server, Session};
use reqwest::Method;
use serde_json::json;
use shelfkeeper_domain::Error;
use shelfkeeper_domain::access::Actor;
use shelfkeeper_domain::ids::{CopyId, TitleId};
use shelfkeeper_domain::model::{CopyDraft, HoldStatus, MemberDraft, StoreMode, TitleDraft};
use shelfkeeper_store::{ConflictAction, SnapshotStream, Store, SyncError, SyncTransport};
use shelfkeeper_sync::{Change, Entity, Op, PROTOCOL_VERSION, PullRequest, PullResponse, PushRequest, PushResponse};
use shelfkeeper_sync_client::{ClientError, Credential, HttpTransport, Options};
use std::collections::HashSet;
use std::sync::Mutex;
use uuid::Uuid;

const OWNER: &Actor = &Actor::OWNER;

/// A server, a library in it, and an account per role.
pub(crate) struct Lib {
    pub(crate) s: Server,
    pub(crate) id: String,
    pub(crate) base: String,
    pub(crate) admin: Session,
    pub(crate) librarian: Session,
    pub(crate) member: Session,
}

pub(crate) async fn library(b: Backend) -> Lib {
    let s = Server::start(b).await;
    let admin = s.user("admin@example.org").await;
    let librarian = s.user("librarian@example.org").await;
    let member = s.user("member@example.org").await;
    let id = s.post("/api/v1/libraries", &admin.auth(), json!({ "name": "Branch" })).await.body["id"].as_str().unwrap().to_owned();
    let base = format!("/api/v1/libraries/{id}");
    for (email, role) in [("librarian@example.org", "librarian"), ("member@example.org", "member")] {
        s.call(Method::PUT, &format!("{base}/memberships"), &admin.auth(), Some(json!({ "email": email, "role": role })))
            .await
            .expect(200, "");
    }
    Lib { s, id, base, admin, librarian, member }
}

pub(crate) struct Desk {
    pub(crate) store: Store,
    pub(crate) dir: tempfile::TempDir,
}

async fn desk() -> Desk {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path().join("desk.sqlite3"), StoreMode::Library).await.unwrap();
    Desk { store, dir }
}

impl Lib {
    pub(crate) fn transport(&self, who: &Session) -> HttpTransport {
        HttpTransport::new(&self.s.base, self.id.parse().unwrap(), Credential::Bearer(who.access.clone()), Options::default()).unwrap()
    }

    /// A desk registered by the librarian, with its transport.
    pub(crate) async fn desk(&self) -> (Desk, HttpTransport) {
        let d = desk().await;
        let t = self.transport(&self.librarian).with_site(d.store.site_id().0);
        t.register_device(d.store.site_id().0, "Front desk").await.unwrap();
        (d, t)
    }

    pub(crate) async fn feed(&self) -> Vec<shelfkeeper_sync::Sequenced> {
        let mut out = Vec::new();
        let t = self.transport(&self.librarian);
        loop {
            let after = out.last().map_or(0, |s: &shelfkeeper_sync::Sequenced| s.server_seq);
            let page = t.pull_page(&PullRequest { protocol: PROTOCOL_VERSION, after, limit: 1000 }).await.unwrap();
            let more = page.more;
            out.extend(page.changes);
            if !more {
                return out;
            }
        }
    }
}

pub(crate) fn draft(title: &str) -> TitleDraft {
    TitleDraft { title: title.into(), ..Default::default() }
}

fn title_change(site: Uuid, hlc: u64) -> Change {
    title_change_of(Uuid::now_v7(), "Pushed by hand", site, hlc)
}

/// An upsert of title `id` named `title`, as a desk pushes it.
pub(crate) fn title_change_of(id: Uuid, title: &str, site: Uuid, hlc: u64) -> Change {
    let sort = title.to_lowercase();
    Change {
        change_id: Uuid::now_v7(),
        entity: Entity::Title,
        entity_id: id,
        op: Op::Upsert,
        hlc,
        site_id: site,
        payload: json!({ "id": id.to_string(), "title": title, "sort_title": sort, "contributors": "[]",
                         "author_sort": "", "subjects": "[]", "tags": "[]", "field_sources": "{}",
                         "created_at": "2026-12-02T10:00:00Z", "updated_at": "2026-12-02T10:00:00Z" }),
    }
}

/// Staff settling conflict `key` (as `Store::resolve_conflict` sends it).
fn resolution_change(site: Uuid, hlc: u64, key: &str) -> Change {
    let id = shelfkeeper_sync::resolution_id(key);
    Change {
        change_id: Uuid::now_v7(),
        entity: Entity::ConflictResolution,
        entity_id: id,
        op: Op::Upsert,
        hlc,
        site_id: site,
        payload: json!({ "id": id.to_string(), "conflict_key": key, "conflict_hlc": 1, "conflict_site": site.to_string(),
                         "action": "acknowledged", "note": "", "resolved_by": "ann", "resolved_at": "2026-11-24T10:00:00Z" }),
    }
}

pub(crate) fn now_hlc() -> u64 {
    shelfkeeper_sync::hlc::from_parts(chrono::Utc::now().timestamp_millis() as u64, 0)
}

pub(crate) async fn sync(d: &Desk, t: &impl SyncTransport) {
    d.store.sync_once(t, 100).await.unwrap_or_else(|e| panic!("sync: {e}"));
}

pub(crate) async fn assert_same(desks: &[&Desk]) {
    let first = desks[0].store.sync_dump().await.unwrap();
    for (i, d) in desks.iter().enumerate().skip(1) {
        let dump = d.store.sync_dump().await.unwrap();
        if dump != first {
            let mut diff: Vec<String> =
                first.lines().zip(dump.lines()).filter(|(a, b)| a != b).take(6).map(|(a, b)| format!("  0: {a}\n  {i}: {b}")).collect();
            diff.push(format!("  ({} and {} lines)", first.lines().count(), dump.lines().count()));
            panic!("desk {i} differs from desk 0:\n{}", diff.join("\n"));
        }
    }
}

// ------------------------------------------------------------ the routes --

async fn push_and_pull_round_trip(b: Backend) {
    let l = library(b).await;
    let (a, ta) = l.desk().await;
    let (bd, tb) = l.desk().await;
    let t = a.store.add_title(OWNER, &draft("Dune")).await.unwrap();
    a.store.add_copy(OWNER, t.id, &CopyDraft { barcode: "B1".into(), ..Default::default() }).await.unwrap();
    a.store
        .add_member(OWNER, &MemberDraft { card: "M1".into(), name: "Ann".into(), member_type: "adult".into(), ..Default::default() })
        .await
        .unwrap();
    a.store.check_out(OWNER, "M1", "B1").await.unwrap();
    let run = a.store.sync_once(&ta, 3).await.unwrap();
    // Title, copy, member and the loan, in two pages of three; the default
    // member types are every store's from the start and are not sent.
    assert_eq!(run.pushed, 4, "{run:?}");
    assert_eq!(a.store.sync_status().await.unwrap().pending_changes, 0);
    sync(&bd, &tb).await;
    assert_eq!(bd.store.member("M1").await.unwrap().name, "Ann");
    // A hears of B's (default member types, stamped by B).
    sync(&a, &ta).await;
    assert_same(&[&a, &bd]).await;

    // The feed by hand: ascending sequences, pages, high water.
    let r = l.s.get(&format!("{}/sync/pull?after=0&limit=2", l.base), &l.librarian.auth()).await;
    r.expect(200, "");
    assert_eq!(r.body["changes"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["changes"][0]["server_seq"], 1);
    assert_eq!(r.body["more"], true);
    let all = l.feed().await;
    assert_eq!(all.len() as u64, r.body["high_water"].as_u64().unwrap());
    assert!(all.windows(2).all(|w| w[0].server_seq < w[1].server_seq));
    let r = l.s.post(&format!("{}/sync/pull", l.base), &l.admin.auth(), json!({ "protocol": 1, "after": all.len(), "limit": 10 })).await;
    r.expect(200, "");
    assert_eq!(r.body["changes"], json!([]));
    assert_eq!(r.body["more"], false);

    // Devices, for admins; the pull and push were recorded.
    let r = l.s.get(&format!("{}/sync/devices", l.base), &l.admin.auth()).await;
    r.expect(200, "");
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|d| d["last_pull_at"].is_string()));
    assert!(items.iter().any(|d| d["site_id"] == a.store.site_id().0.to_string() && d["last_push_at"].is_string()));
    l.s.get(&format!("{}/sync/devices", l.base), &l.librarian.auth()).await.expect(403, "permission_denied");
    // Registering again renames.
    let r = l
        .s
        .post(&format!("{}/sync/devices", l.base), &l.librarian.auth(), json!({ "site_id": a.store.site_id().0, "name": "Back office" }))
        .await;
    r.expect(200, "");
    assert_eq!(r.body["name"], "Back office");
    l.s.shutdown().await;
}
both!(push_and_pull_round_trip);

async fn a_push_repeated_after_a_lost_reply_is_stored_once(b: Backend) {
    let l = library(b).await;
    let (_d, t) = l.desk().await;
    let site = _d.store.site_id().0;
    let changes = vec![title_change(site, now_hlc()), title_change(site, now_hlc() + 1)];
    let req = PushRequest { protocol: PROTOCOL_VERSION, site_id: site, changes: changes.clone() };
    let first = t.push_page(&req).await.unwrap();
    assert!(first.all_accepted(&req), "{first:?}");
    let again = t.push_page(&req).await.unwrap();
    assert_eq!(again, first, "the same sequences again");
    // In another order, mixed with a new one: old ids keep their sequence.
    let third = title_change(site, now_hlc() + 2);
    let req2 = PushRequest { protocol: PROTOCOL_VERSION, site_id: site, changes: vec![third.clone(), changes[1].clone(), third.clone()] };
    let r = t.push_page(&req2).await.unwrap();
    assert_eq!(r.accepted[1], first.accepted[1]);
    assert_eq!(r.accepted[0].server_seq, 3);
    assert_eq!(r.accepted[2].server_seq, 3);
    let feed = l.feed().await;
    assert_eq!(feed.len(), 3);
    assert_eq!(feed.iter().map(|s| s.change.change_id).collect::<HashSet<_>>().len(), 3);
    assert_eq!(feed[0].change, changes[0], "stored as pushed");
    l.s.shutdown().await;
}
both!(a_push_repeated_after_a_lost_reply_is_stored_once);

/// Concurrent pushes to one library get distinct, gap-free sequences, and
/// a re-push racing its first push is still stored once.
async fn concurrent_pushes_take_turns_for_sequences(b: Backend) {
    let l = library(b).await;
    let mut tasks = Vec::new();
    let mut all = Vec::new();
    for _ in 0..6 {
        let (d, t) = l.desk().await;
        let site = d.store.site_id().0;
        let req = PushRequest {
            protocol: PROTOCOL_VERSION,
            site_id: site,
            changes: (0..15).map(|i| title_change(site, now_hlc() + i)).collect(),
        };
        all.extend(req.changes.iter().map(|c| c.change_id));
        for _ in 0..2 {
            let (t, req) = (t.clone(), req.clone());
            tasks.push(tokio::spawn(async move {
                let r = t.push_page(&req).await.unwrap();
                assert!(r.all_accepted(&req), "{r:?}");
                r
            }));
        }
        drop(d);
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    for pair in answers.chunks(2) {
        assert_eq!(pair[0], pair[1], "both pushes of one page get the same sequences");
    }
    let feed = l.feed().await;
    assert_eq!(feed.len(), all.len());
    assert_eq!(feed.iter().map(|s| s.server_seq).collect::<Vec<_>>(), (1..=all.len() as u64).collect::<Vec<_>>(), "no gaps, no repeats");
    assert_eq!(feed.iter().map(|s| s.change.change_id).collect::<HashSet<_>>(), all.into_iter().collect::<HashSet<_>>());
    l.s.shutdown().await;
}
both!(concurrent_pushes_take_turns_for_sequences);

async fn a_member_cannot_push_or_pull(b: Backend) {
    let l = library(b).await;
    let (d, _) = l.desk().await;
    d.store.add_title(OWNER, &draft("Dune")).await.unwrap();
    let t = d.store.add_title(OWNER, &draft("Emma")).await.unwrap();
    d.store.add_copy(OWNER, t.id, &CopyDraft { barcode: "B1".into(), ..Default::default() }).await.unwrap();
    d.store
        .add_member(OWNER, &MemberDraft { card: "M1".into(), name: "Ann".into(), member_type: "adult".into(), ..Default::default() })
        .await
        .unwrap();
    d.store.check_out(OWNER, "M1", "B1").await.unwrap();
    let out = d.store.outbox_page(0, 100).await.unwrap();
    assert!(out.changes.iter().any(|c| c.entity == Entity::Event));
    let mt = l.transport(&l.member);
    let mut changes = out.changes.clone();
    changes.push(resolution_change(d.store.site_id().0, now_hlc(), "events:a:b"));
    let req = PushRequest { protocol: PROTOCOL_VERSION, site_id: d.store.site_id().0, changes };
    let r = mt.push_page(&req).await.unwrap();
    assert!(r.accepted.is_empty());
    assert_eq!(r.rejected.len(), req.changes.len());
    assert!(r.rejected.iter().all(|x| x.code == shelfkeeper_sync::RejectCode::Forbidden), "{r:?}");
    // The driver keeps them in the outbox.
    match d.store.sync_once(&mt, 100).await {
        Err(SyncError::Rejected(r)) => assert!(!r.is_empty()),
        other => panic!("{other:?}"),
    }
    assert!(d.store.sync_status().await.unwrap().pending_changes > 0);
    assert!(l.feed().await.is_empty());
    // Members neither pull (the feed has members' data) nor register.
    l.s.get(&format!("{}/sync/pull", l.base), &l.member.auth()).await.expect(403, "permission_denied");
    match mt.pull_page(&PullRequest { protocol: PROTOCOL_VERSION, after: 0, limit: 10 }).await {
        Err(ClientError::Refused { status: 403, code, .. }) => assert_eq!(code, "permission_denied"),
        other => panic!("{other:?}"),
    }
    l.s.post(&format!("{}/sync/devices", l.base), &l.member.auth(), json!({ "site_id": Uuid::now_v7(), "name": "Mine" }))
        .await
        .expect(403, "permission_denied");
    // The librarian's push of the same page is taken.
    let lt = l.transport(&l.librarian);
    assert!(lt.push_page(&req).await.unwrap().all_accepted(&req));
    l.s.shutdown().await;
}
both!(a_member_cannot_push_or_pull);

/// Issue 18: a pulled page was bounded by its count alone, so with 256 KiB
/// changes one pull could hold 256 MiB in the server's memory. A page now
/// also ends once its payloads pass `PULL_PAGE_BUDGET`.
async fn a_pulled_page_is_bounded_by_its_size(b: Backend) {
    let l = library(b).await;
    let (d, t) = l.desk().await;
    let site = d.store.site_id().0;
    let big = |i: usize| {
        let mut c = title_change(site, now_hlc() + i as u64);
        for col in ["subtitle", "series", "publisher", "notes"] {
            c.payload[col] = json!("a".repeat(20_000));
        }
        c
    };
    let all: Vec<Change> = (0..60).map(big).collect();
    for page in all.chunks(10) {
        let req = PushRequest { protocol: PROTOCOL_VERSION, site_id: site, changes: page.to_vec() };
        assert!(t.push_page(&req).await.unwrap().all_accepted(&req));
    }
    let first = t.pull_page(&PullRequest { protocol: PROTOCOL_VERSION, after: 0, limit: 1000 }).await.unwrap();
    let size = |p: &PullResponse| p.changes.iter().map(|c| c.change.payload.to_string().len()).sum::<usize>();
    assert!(first.more, "the rest waits for the next page");
    assert!((50..60).contains(&first.changes.len()), "{} changes in the first page", first.changes.len());
    let budget = shelfkeeper_server::db::sync::PULL_PAGE_BUDGET as usize;
    assert!(size(&first) < budget + 100_000, "about the budget: {}", size(&first));
    let after = first.changes.last().unwrap().server_seq;
    let rest = t.pull_page(&PullRequest { protocol: PROTOCOL_VERSION, after, limit: 1000 }).await.unwrap();
    assert!(!rest.more);
    assert_eq!(first.changes.len() + rest.changes.len(), 60, "nothing skipped");
    // A page of one change always goes, however large.
    let one = t.pull_page(&PullRequest { protocol: PROTOCOL_VERSION, after: 0, limit: 1 }).await.unwrap();
    assert_eq!((one.changes.len(), one.more), (1, true));
    l.s.shutdown().await;
}
both!(a_pulled_page_is_bounded_by_its_size);

async fn bad_pushes_are_refused_change_by_change(b: Backend) {
    let l = library(b).await;
    let (d, t) = l.desk().await;
    let site = d.store.site_id().0;
    let ahead = shelfkeeper_sync::hlc::from_parts(chrono::Utc::now().timestamp_millis() as u64 + 10 * 60 * 1000, 0);
    let skewed = title_change(site, ahead);
    let foreign = title_change(Uuid::now_v7(), now_hlc());
    let mut malformed = title_change(site, now_hlc());
    malformed.payload = json!({ "id": Uuid::now_v7().to_string() });
    let fine = title_change(site, now_hlc());
    // Every column within its bound, the whole over 256 KiB.
    let mut huge = title_change(site, now_hlc());
    for col in ["subtitle", "series", "publisher", "notes"] {
        huge.payload[col] = json!("𝄞".repeat(20_000));
    }
    // A resolution whose id is not its conflict key's.
    let mut misnamed = resolution_change(site, now_hlc(), "row:x");
    misnamed.payload["conflict_key"] = json!("row:y");
    let req = PushRequest {
        protocol: PROTOCOL_VERSION,
        site_id: site,
        changes: vec![skewed.clone(), foreign.clone(), malformed.clone(), fine.clone(), misnamed.clone(), huge.clone()],
    };
    let r = t.push_page(&req).await.unwrap();
    let code = |id: Uuid| r.rejected.iter().find(|x| x.change_id == id).map(|x| x.code);
    use shelfkeeper_sync::RejectCode as C;
    assert_eq!(code(skewed.change_id), Some(C::ClockSkew));
    assert_eq!(code(foreign.change_id), Some(C::Forbidden));
    assert_eq!(code(malformed.change_id), Some(C::Malformed));
    assert_eq!(code(misnamed.change_id), Some(C::Malformed));
    assert_eq!(code(huge.change_id), Some(C::Malformed));
    assert!(r.rejected.iter().any(|x| x.change_id == huge.change_id && x.reason.contains("at most 262144")), "{r:?}");
    assert_eq!(r.accepted.len(), 1);
    assert_eq!(r.accepted[0].change_id, fine.change_id);
    assert_eq!(l.feed().await.len(), 1);

    // Whole requests: 4xx JSON errors, never 500.
    let push = format!("{}/sync/push", l.base);
    let auth = l.librarian.auth();
    let body =
        |site: Uuid, protocol: u32, changes: Vec<Change>| serde_json::to_value(PushRequest { protocol, site_id: site, changes }).unwrap();
    l.s.post(&push, &auth, body(site, 2, vec![])).await.expect(400, "unsupported_protocol");
    let stranger = Uuid::now_v7();
    l.s.post(&push, &auth, body(stranger, 1, vec![title_change(stranger, now_hlc())])).await.expect(409, "unknown_device");
    l.s.post(&push, &auth, json!({ "protocol": 1 })).await.expect(422, "invalid");
    l.s.post(&push, &auth, json!({ "protocol": 1, "site_id": "nope", "changes": [] })).await.expect(422, "invalid");
    let mut v = body(site, 1, vec![title_change(site, now_hlc())]);
    v["changes"][0]["hlc"] = json!(-5);
    l.s.post(&push, &auth, v.clone()).await.expect(422, "invalid");
    v["changes"][0]["hlc"] = json!(u64::MAX);
    let r = l.s.post(&push, &auth, v.clone()).await;
    r.expect(200, "");
    assert_eq!(r.body["rejected"][0]["code"], "clock_skew");
    v["changes"][0]["entity"] = json!("account");
    l.s.post(&push, &auth, v).await.expect(422, "invalid");
    let r = l.s.call(Method::POST, &push, &auth, None).await;
    assert!(r.status.is_client_error() && r.body["error"]["code"].is_string(), "{r:?}");
    let many: Vec<Change> = (0..1001).map(|i| title_change(site, now_hlc() + i)).collect();
    l.s.post(&push, &auth, body(site, 1, many)).await.expect(422, "invalid");
    let pull = format!("{}/sync/pull", l.base);
    for q in ["?after=-1", "?limit=0", "?limit=1001", "?after=x", "?protocol=9", "?site_id=nope", "?bogus=1"] {
        let r = l.s.get(&format!("{pull}{q}"), &auth).await;
        assert!(r.status.is_client_error() && r.body["error"]["code"].is_string(), "{q}: {r:?}");
    }
    l.s.post(&format!("{}/sync/devices", l.base), &auth, json!({ "site_id": "x", "name": "n" })).await.expect(422, "invalid");
    l.s.post(&format!("{}/sync/devices", l.base), &auth, json!({ "site_id": site, "name": " " })).await.expect(422, "invalid");
    let own = l.s.state.db.site.to_string();
    l.s.post(&format!("{}/sync/devices", l.base), &auth, json!({ "site_id": own, "name": "n" })).await.expect(422, "invalid");
    // Another library's feed is not found.
    let other = l.s.post("/api/v1/libraries", &l.member.auth(), json!({ "name": "Mine" })).await.body["id"].as_str().unwrap().to_owned();
    l.s.get(&format!("/api/v1/libraries/{other}/sync/pull"), &auth).await.expect(404, "not_found");
    // The transport says what went wrong.
    let expired = HttpTransport::new(&l.s.base, l.id.parse().unwrap(), Credential::Bearer("expired".into()), Options::default()).unwrap();
    assert_eq!(expired.pull_page(&PullRequest { protocol: 1, after: 0, limit: 1 }).await, Err(ClientError::AuthExpired));
    let offline =
        HttpTransport::new("http://127.0.0.1:9", l.id.parse().unwrap(), Credential::Bearer("t0ken-secret".into()), Options::default())
            .unwrap();
    match offline.pull_page(&PullRequest { protocol: 1, after: 0, limit: 1 }).await {
        Err(e @ ClientError::Offline(_)) => assert!(!e.to_string().contains("t0ken-secret") && e.is_transient()),
        other => panic!("{other:?}"),
    }
    assert!(!format!("{offline:?}").contains("t0ken-secret"));
    l.s.shutdown().await;
}
both!(bad_pushes_are_refused_change_by_change);

/// Validation at the door: a change a desk could not apply is refused with
/// a message naming the field and never enters the feed; loan rules need an
/// administrator; a device pushes only as the account that registered it.
async fn the_door_checks_types_roles_and_device_owners(b: Backend) {
    let l = library(b).await;
    let (d, t) = l.desk().await;
    let site = d.store.site_id().0;
    use shelfkeeper_sync::RejectCode as C;

    // The change that stopped every desk of a library: "title": 42.
    let mut wedge = title_change(site, now_hlc());
    wedge.payload["title"] = json!(42);
    let mut unknown_kind = title_change(site, now_hlc());
    unknown_kind.entity = Entity::Event;
    unknown_kind.op = Op::Event;
    unknown_kind.payload = json!({ "id": unknown_kind.entity_id.to_string(), "stream_id": unknown_kind.entity_id.to_string(),
                                   "kind": "x", "title_id": Uuid::now_v7().to_string(), "occurred_at": "2026-12-02T10:00:00Z" });
    let type_id = Uuid::now_v7();
    let loan_rules = Change {
        change_id: Uuid::now_v7(),
        entity: Entity::MemberType,
        entity_id: type_id,
        op: Op::Upsert,
        hlc: now_hlc(),
        site_id: site,
        payload: json!({ "id": type_id.to_string(), "code": "vip", "name": "Friends", "loan_days": 365, "max_renewals": 100,
                         "max_loans": 1000, "hold_pickup_days": 60 }),
    };
    let req =
        PushRequest { protocol: PROTOCOL_VERSION, site_id: site, changes: vec![wedge.clone(), unknown_kind.clone(), loan_rules.clone()] };
    let r = t.push_page(&req).await.unwrap();
    let refused = |id: Uuid| r.rejected.iter().find(|x| x.change_id == id).unwrap();
    assert_eq!(refused(wedge.change_id).code, C::Malformed);
    assert!(refused(wedge.change_id).reason.contains("title column title: expected a string, got 42"), "{r:?}");
    assert_eq!(refused(unknown_kind.change_id).code, C::Malformed);
    assert!(refused(unknown_kind.change_id).reason.contains("unknown event kind 'x'"), "{r:?}");
    assert_eq!(refused(loan_rules.change_id).code, C::Forbidden, "a librarian does not change loan rules");
    assert!(l.feed().await.is_empty(), "nothing refused enters the feed");

    // The administrator may push loan rules, from a device of their own.
    let admin_site = Uuid::now_v7();
    let at = l.transport(&l.admin).with_site(admin_site);
    at.register_device(admin_site, "Office").await.unwrap();
    let rules = Change { site_id: admin_site, ..loan_rules.clone() };
    let req = PushRequest { protocol: PROTOCOL_VERSION, site_id: admin_site, changes: vec![rules] };
    assert!(at.push_page(&req).await.unwrap().all_accepted(&req));

    // Another account pushing under the librarian's device is refused, and
    // so is taking the device over by registering it again; an
    // administrator can transfer it.
    let req = PushRequest { protocol: PROTOCOL_VERSION, site_id: site, changes: vec![title_change(site, now_hlc())] };
    l.s.post(&format!("{}/sync/push", l.base), &l.admin.auth(), serde_json::to_value(&req).unwrap()).await.expect(403, "forbidden");
    let other = l.s.user("other-librarian@example.org").await;
    l.s.call(
        Method::PUT,
        &format!("{}/memberships", l.base),
        &l.admin.auth(),
        Some(json!({ "email": "other-librarian@example.org", "role": "librarian" })),
    )
    .await
    .expect(200, "");
    let devices = format!("{}/sync/devices", l.base);
    l.s.post(&devices, &other.auth(), json!({ "site_id": site, "name": "Mine now" })).await.expect(403, "forbidden");
    l.s.post(&format!("{}/sync/push", l.base), &other.auth(), serde_json::to_value(&req).unwrap()).await.expect(403, "forbidden");
    assert_eq!(l.feed().await.len(), 1, "only the administrator's loan rules");
    l.s.post(&devices, &l.admin.auth(), json!({ "site_id": site, "name": "Front desk (admin)" })).await.expect(200, "");
    l.s.post(&format!("{}/sync/push", l.base), &l.admin.auth(), serde_json::to_value(&req).unwrap()).await.expect(200, "");
    // The librarian's own pushes go through while the device is theirs.
    let (d2, t2) = l.desk().await;
    d2.store.add_title(OWNER, &draft("Dune")).await.unwrap();
    sync(&d2, &t2).await;
    assert_eq!(l.feed().await.len(), 3);
    l.s.shutdown().await;
}
both!(the_door_checks_types_roles_and_device_owners);

async fn a_waiting_pull_answers_as_soon_as_a_change_is_committed(b: Backend) {
    use std::time::{Duration, Instant};
    let l = library(b).await;
    let (a, ta) = l.desk().await;
    let (_b, tb) = l.desk().await;
    // Nothing new: the pull waits its time out and answers empty.
    let started = Instant::now();
    assert!(!tb.wait_for_changes(0, Duration::from_millis(400)).await.unwrap());
    assert!(started.elapsed() >= Duration::from_millis(400), "it waited");
    // The long poll has its own timeout: a client made for short requests
    // does not cut it.
    let short = Options { timeout: Duration::from_millis(300), ..Options::default() };
    let impatient = HttpTransport::new(&l.s.base, l.id.parse().unwrap(), Credential::Bearer(l.librarian.access.clone()), short).unwrap();
    assert_eq!(impatient.wait_for_changes(0, Duration::from_millis(800)).await, Ok(false));
    // A push from desk A wakes desk B's waiting pull at once.
    let waiting = tokio::spawn({
        let tb = tb.clone();
        async move {
            let started = Instant::now();
            let more = tb.wait_for_changes(0, Duration::from_secs(20)).await.unwrap();
            (more, started.elapsed())
        }
    });
    parked(&l.s, 1).await;
    a.store.add_title(OWNER, &draft("Dune")).await.unwrap();
    let pushed = Instant::now();
    sync(&a, &ta).await;
    let (more, waited) = waiting.await.unwrap();
    assert!(more, "the pull saw the change");
    assert!(waited < Duration::from_secs(10), "answered on the push, not at the end of its wait ({waited:?})");
    eprintln!("waiting pull answered {:?} after the push began", pushed.elapsed());
    // So does a write of the server's own (REST).
    let high = l.feed().await.last().unwrap().server_seq;
    let waiting = tokio::spawn({
        let tb = tb.clone();
        async move { tb.wait_for_changes(high, Duration::from_secs(20)).await.unwrap() }
    });
    parked(&l.s, 1).await;
    l.s.post(&format!("{}/titles", l.base), &l.librarian.auth(), json!({ "title": "From the web" })).await.expect(201, "");
    assert!(tokio::time::timeout(Duration::from_secs(10), waiting).await.expect("answered on the server's write").unwrap());
    // Out of range, refused; and a pull left waiting does not hold up shutdown.
    let auth = l.librarian.auth();
    l.s.get(&format!("{}/sync/pull?wait_ms=30001", l.base), &auth).await.expect(400, "bad_query");
    let last = l.feed().await.last().unwrap().server_seq;
    let waiting = tokio::spawn(async move { tb.wait_for_changes(last, Duration::from_secs(30)).await });
    parked(&l.s, 1).await;
    let stopping = Instant::now();
    l.s.shutdown().await;
    assert!(stopping.elapsed() < Duration::from_secs(5), "shutdown took {:?}", stopping.elapsed());
    let _ = tokio::time::timeout(Duration::from_secs(5), waiting).await.expect("the waiting pull was answered");
}
both!(a_waiting_pull_answers_as_soon_as_a_change_is_committed);

/// Until `n` pulls wait on the server's feed bell (each counts once it
/// has subscribed, before its first look, so a later commit wakes it).
async fn parked(s: &Server, n: usize) {
    use std::time::{Duration, Instant};
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.state.db.feed_bell.parked() < n {
        assert!(Instant::now() < deadline, "no pull waited on the feed within 10 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn server_writes_reach_desktops(b: Backend) {
    let l = library(b).await;
    let (d, t) = l.desk().await;
    let (a, auth) = (&l.base, l.librarian.auth());
    let title =
        l.s.post(
            &format!("{a}/titles"),
            &auth,
            json!({ "title": "Server Title", "contributors": [{ "name": "Ann Author", "role": "author" }], "subjects": ["Sea"] }),
        )
        .await;
    title.expect(201, "");
    let title_id = title.body["id"].as_str().unwrap().to_owned();
    let copy = l.s.post(&format!("{a}/titles/{title_id}/copies"), &auth, json!({ "barcode": "S1", "location": "Main" })).await;
    copy.expect(201, "");
    l.s.post(
        &format!("{a}/members"),
        &auth,
        json!({ "card": "P1", "name": "Pat Member", "member_type": "adult", "account_email": "member@example.org" }),
    )
    .await
    .expect(201, "");
    // The member places a hold through the API.
    let hold = l.s.post(&format!("{a}/titles/{title_id}/holds"), &l.member.auth(), json!({})).await;
    hold.expect(201, "");
    let hold_id: Uuid = hold.body["id"].as_str().unwrap().parse().unwrap();
    sync(&d, &t).await;
    let got = d.store.title(TitleId(title_id.parse().unwrap())).await.unwrap();
    assert_eq!(got.draft().title, "Server Title");
    assert_eq!(got.draft().contributors[0].name, "Ann Author");
    let copies = d.store.copies_of(got.id).await.unwrap();
    assert_eq!(copies.len(), 1);
    assert_eq!(copies[0].id, CopyId(copy.body["id"].as_str().unwrap().parse().unwrap()));
    assert_eq!(d.store.member("P1").await.unwrap().name, "Pat Member");
    let holds = d.store.holds_of_title(got.id).await.unwrap();
    assert_eq!(holds.len(), 1, "{holds:?}");
    assert_eq!(holds[0].id.0, hold_id);
    // The desk lends at the desk; the member cancels through the API;
    // both reach a second desk.
    d.store
        .add_member(
            OWNER,
            &MemberDraft { card: "P2".into(), name: "Desk Member".into(), member_type: "adult".into(), ..Default::default() },
        )
        .await
        .unwrap();
    d.store.check_out(OWNER, "P2", "S1").await.unwrap();
    l.s.call(Method::DELETE, &format!("{a}/holds/{hold_id}"), &l.member.auth(), None).await.expect(200, "");
    // The title edited and a new copy deleted at the server.
    l.s.call(Method::PUT, &format!("{a}/titles/{title_id}"), &auth, Some(json!({ "title": "Server Title, Revised" })))
        .await
        .expect(200, "");
    let c2 =
        l.s.post(&format!("{a}/titles/{title_id}/copies"), &auth, json!({ "barcode": "S2" })).await.body["id"].as_str().unwrap().to_owned();
    l.s.call(Method::DELETE, &format!("{a}/copies/{c2}"), &auth, None).await.expect(204, "");
    sync(&d, &t).await;
    let (d2, t2) = l.desk().await;
    sync(&d2, &t2).await;
    sync(&d, &t).await;
    assert_same(&[&d, &d2]).await;
    let got = d2.store.title(TitleId(title_id.parse().unwrap())).await.unwrap();
    assert_eq!(got.draft().title, "Server Title, Revised");
    assert_eq!(d2.store.copies_of(got.id).await.unwrap().len(), 1);
    let holds = d2.store.holds_of_title(got.id).await.unwrap();
    assert_eq!(holds.len(), 1);
    assert_eq!(holds[0].status, HoldStatus::Cancelled, "cancelled through the API");
    let server_site = Uuid::parse_str(&l.s.state.db.site).unwrap();
    let feed = l.feed().await;
    assert!(feed.iter().any(|s| s.change.site_id == server_site && s.change.entity == Entity::Event));
    assert!(
        !feed.iter().any(|s| s.change.entity == Entity::MemberType && s.change.site_id == server_site),
        "the server's seeded member types are not fed"
    );
    l.s.shutdown().await;
}
both!(server_writes_reach_desktops);

async fn a_server_edit_after_a_desk_edit_wins_even_when_the_desk_clock_is_ahead(b: Backend) {
    let l = library(b).await;
    let (d, t) = l.desk().await;
    let (a, auth) = (&l.base, l.librarian.auth());
    let created = l.s.post(&format!("{a}/titles"), &auth, json!({ "title": "First" })).await;
    created.expect(201, "");
    let id: Uuid = created.body["id"].as_str().unwrap().parse().unwrap();
    // A desk whose clock runs two minutes fast edits the title…
    let ahead = shelfkeeper_sync::hlc::from_parts(chrono::Utc::now().timestamp_millis() as u64 + 2 * 60 * 1000, 0);
    let desk_edit = title_change_of(id, "Desk edit", d.store.site_id().0, ahead);
    let r = t.push_page(&PushRequest { protocol: PROTOCOL_VERSION, site_id: d.store.site_id().0, changes: vec![desk_edit] }).await.unwrap();
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    // …then a librarian edits it through the API: the later edit wins.
    l.s.call(Method::PUT, &format!("{a}/titles/{id}"), &auth, Some(json!({ "title": "Server edit" }))).await.expect(200, "");
    let server_site = Uuid::parse_str(&l.s.state.db.site).unwrap();
    let last = l.feed().await.into_iter().rfind(|s| s.change.entity_id == id).unwrap().change;
    assert_eq!(last.site_id, server_site);
    assert!(last.hlc > ahead, "the server's stamp {} is not after the pushed {ahead}", last.hlc);
    let (d2, t2) = l.desk().await;
    sync(&d2, &t2).await;
    assert_eq!(d2.store.title(TitleId(id)).await.unwrap().draft().title, "Server edit");
    l.s.shutdown().await;
}
both!(a_server_edit_after_a_desk_edit_wins_even_when_the_desk_clock_is_ahead);

/// Circulation through the API reaches a desk as the same holds, loans and
/// copy statuses the server shows: every server event names its hold, a
/// cancelled ready hold hands its copy on with an event, and a loan fulfils
/// the borrower's hold by its event. (Before: a desk saw a trapped copy
/// with no ready hold, never saw a hold fulfilled or expired, and kept a
/// copy on the hold shelf that the server had put back.)
async fn server_circulation_reaches_desks_as_the_same_holds_and_loans(b: Backend) {
    let l = library(b).await;
    let (d, t) = l.desk().await;
    let (a, auth) = (&l.base, l.librarian.auth());
    let title = l.s.post(&format!("{a}/titles"), &auth, json!({ "title": "Queued" })).await.body["id"].as_str().unwrap().to_owned();
    let title_id = TitleId(title.parse().unwrap());
    l.s.post(&format!("{a}/titles/{title}/copies"), &auth, json!({ "barcode": "Q-1" })).await.expect(201, "");
    for card in ["P1", "P2", "P3", "P4"] {
        l.s.post(&format!("{a}/members"), &auth, json!({ "card": card, "name": card, "member_type": "adult" })).await.expect(201, "");
    }
    let holds = format!("{a}/titles/{title}/holds");
    l.s.post(&format!("{a}/checkout"), &auth, json!({ "barcode": "Q-1", "card": "P3" })).await.expect(201, "");
    let h1 = l.s.post(&holds, &auth, json!({ "card": "P1" })).await.body["id"].as_str().unwrap().to_owned();
    let h2 = l.s.post(&holds, &auth, json!({ "card": "P2" })).await.body["id"].as_str().unwrap().to_owned();
    // What the server and the desk say of each hold and of the copy.
    let compare = |step: &'static str| {
        let (l, d) = (&l, &d);
        async move {
            let server: Vec<(String, String)> = {
                let rows = sqlx::query("SELECT id, status FROM holds ORDER BY id").fetch_all(&l.s.state.db.pool).await.unwrap();
                rows.iter().map(|r| (sqlx::Row::get(r, "id"), sqlx::Row::get(r, "status"))).collect()
            };
            let mut desk: Vec<(String, String)> =
                d.store.holds_of_title(title_id).await.unwrap().iter().map(|h| (h.id.to_string(), h.status.as_str().to_owned())).collect();
            desk.sort();
            assert_eq!(desk, server, "{step}: the desk's holds differ from the server's");
            let copy = d.store.copy("Q-1").await.unwrap();
            let status: String = sqlx::query("SELECT status FROM copies WHERE barcode = 'Q-1'")
                .fetch_one(&l.s.state.db.pool)
                .await
                .map(|r| sqlx::Row::get(&r, "status"))
                .unwrap();
            assert_eq!(copy.status.as_str(), status, "{step}: copy status");
        }
    };
    // Check-in traps the copy for P1.
    assert_eq!(l.s.post(&format!("{a}/checkin"), &auth, json!({ "barcode": "Q-1" })).await.body["hold_shelf_for"], "P1");
    sync(&d, &t).await;
    compare("trapped for P1").await;
    assert_eq!(d.store.hold(h1.parse::<Uuid>().map(shelfkeeper_domain::ids::HoldId).unwrap()).await.unwrap().status, HoldStatus::Ready);
    // P1 cancels: the copy goes to P2, by an event the desk sees.
    l.s.call(Method::DELETE, &format!("{a}/holds/{h1}"), &auth, None).await.expect(200, "");
    sync(&d, &t).await;
    compare("P1 cancelled, trapped for P2").await;
    let queue = l.s.get(&holds, &auth).await;
    assert_eq!((queue.body["items"][0]["id"].as_str(), queue.body["items"][0]["status"].as_str()), (Some(h2.as_str()), Some("ready")));
    // P2 never comes: the sweep expires the hold and the copy is free.
    let later = chrono::Utc::now().date_naive() + chrono::Days::new(30);
    assert_eq!(l.s.state.db.sweep_uncollected_holds(later).await.unwrap(), 1);
    sync(&d, &t).await;
    compare("P2 expired, copy back on the shelf").await;
    assert_eq!(d.store.copy("Q-1").await.unwrap().status, shelfkeeper_domain::model::CopyStatus::Available);
    // P4 waits, then borrows the copy off the shelf: the hold is fulfilled.
    l.s.post(&format!("{a}/checkout"), &auth, json!({ "barcode": "Q-1", "card": "P3" })).await.expect(201, "");
    l.s.post(&holds, &auth, json!({ "card": "P4" })).await.expect(201, "");
    l.s.post(&format!("{a}/checkin"), &auth, json!({ "barcode": "Q-1" })).await.expect(200, "");
    l.s.post(&format!("{a}/checkout"), &auth, json!({ "barcode": "Q-1", "card": "P4" })).await.expect(201, "");
    sync(&d, &t).await;
    compare("P4's hold fulfilled by the loan").await;
    let loans = d.store.loans_of_copy(d.store.copy("Q-1").await.unwrap().id).await.unwrap();
    assert_eq!(loans.len(), 3);
    // A second desk, starting from nothing, agrees.
    let (d2, t2) = l.desk().await;
    sync(&d2, &t2).await;
    sync(&d, &t).await;
    assert_same(&[&d, &d2]).await;
    l.s.shutdown().await;
}
both!(server_circulation_reaches_desks_as_the_same_holds_and_loans);

// ------------------------------------------------------------ simulation --

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() { None } else { Some(&items[self.below(items.len())]) }
    }
}

/// The HTTP transport with faults: a request lost before the server saw
/// it, or a reply lost after the server committed (the desk pushes the
/// same ids again next time).
struct Lossy<'a> {
    inner: &'a HttpTransport,
    rng: Mutex<Rng>,
    /// Counts replies dropped after the server stored a push.
    dropped_after_commit: &'a Mutex<u32>,
}

impl SyncTransport for Lossy<'_> {
    async fn push(&self, req: PushRequest) -> Result<PushResponse, String> {
        let (lose_request, lose_reply) = {
            let mut r = self.rng.lock().unwrap();
            (r.chance(10), r.chance(25))
        };
        if lose_request {
            return Err("request lost".into());
        }
        let resp = self.inner.push(req).await?;
        if lose_reply {
            *self.dropped_after_commit.lock().unwrap() += 1;
            return Err("reply lost".into());
        }
        Ok(resp)
    }

    async fn pull(&self, req: PullRequest) -> Result<PullResponse, String> {
        if self.rng.lock().unwrap().chance(15) {
            return Err("reply lost".into());
        }
        self.inner.pull(req).await
    }

    /// A snapshot lost, or cut after its first part (the desk starts over).
    async fn snapshot(&self) -> Result<Option<SnapshotStream>, String> {
        let (lose, cut) = {
            let mut r = self.rng.lock().unwrap();
            (r.chance(15), r.chance(30))
        };
        if lose {
            return Err("reply lost".into());
        }
        let Some(mut snap) = self.inner.snapshot().await? else { return Ok(None) };
        if cut {
            let (send, parts) = tokio::sync::mpsc::channel(1);
            tokio::spawn(async move {
                if let Some(first) = snap.parts.recv().await {
                    let _ = send.send(first).await;
                }
            });
            return Ok(Some(SnapshotStream { head: snap.head, parts }));
        }
        Ok(Some(snap))
    }
}

#[derive(Default)]
struct World {
    titles: Vec<TitleId>,
    barcodes: Vec<String>,
    cards: Vec<String>,
    holds: Vec<shelfkeeper_domain::ids::HoldId>,
    n: usize,
}

fn allowed<T>(r: Result<T, Error>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e @ (Error::Storage(_) | Error::StoreBusy)) => panic!("storage error: {e}"),
        Err(_) => None,
    }
}

async fn random_op(s: &Store, w: &mut World, rng: &mut Rng, me: usize) {
    w.n += 1;
    let n = w.n;
    match rng.below(15) {
        13 => {
            // A member asks for a title at this desk.
            if let (Some(card), Some(title)) = (rng.pick(&w.cards).cloned(), rng.pick(&w.titles).copied())
                && let Some(h) = allowed(s.place_hold(OWNER, &card, title).await)
            {
                w.holds.push(h.id);
            }
        }
        14 => {
            // A hold is cancelled (perhaps at another desk than the one that placed it).
            if let Some(h) = rng.pick(&w.holds).copied() {
                allowed(s.cancel_hold(OWNER, h).await);
            }
        }
        12 => {
            // Staff settle a conflict they see.
            let open: Vec<_> = s.sync_conflicts().await.unwrap().into_iter().filter(|c| c.resolved_at.is_none()).collect();
            if let Some(c) = rng.pick(&open) {
                s.resolve_conflict(OWNER, &c.key, ConflictAction::Acknowledged, &format!("desk {me}")).await.unwrap();
            }
        }
        0 => {
            if let Some(t) = allowed(s.add_title(OWNER, &draft(&format!("Title {n}"))).await) {
                w.titles.push(t.id);
            }
        }
        1 => {
            if let Some(id) = rng.pick(&w.titles).copied() {
                allowed(
                    s.update_title(OWNER, id, &TitleDraft { subtitle: Some(format!("desk {me}")), ..draft(&format!("Title {n}")) }).await,
                );
            }
        }
        2 => {
            if let Some(id) = rng.pick(&w.titles).copied() {
                allowed(s.delete_title(OWNER, id).await);
            }
        }
        3 | 4 => {
            if let Some(title) = rng.pick(&w.titles).copied() {
                let barcode = format!("D{me}-{n}");
                if allowed(s.add_copy(OWNER, title, &CopyDraft { barcode: barcode.clone(), ..Default::default() }).await).is_some() {
                    w.barcodes.push(barcode);
                }
            }
        }
        5 => {
            let card = format!("M{me}-{n}");
            let m = MemberDraft { card: card.clone(), name: format!("Member {n}"), member_type: "adult".into(), ..Default::default() };
            if allowed(s.add_member(OWNER, &m).await).is_some() {
                w.cards.push(card);
            }
        }
        6..=8 => {
            if let (Some(card), Some(barcode)) = (rng.pick(&w.cards).cloned(), rng.pick(&w.barcodes).cloned()) {
                allowed(s.check_out(OWNER, &card, &barcode).await);
            }
        }
        9 | 10 => {
            if let Some(barcode) = rng.pick(&w.barcodes).cloned() {
                allowed(s.check_in(OWNER, &barcode).await);
            }
        }
        _ => {
            if let Some(barcode) = rng.pick(&w.barcodes).cloned() {
                allowed(s.renew(OWNER, &barcode).await);
            }
        }
    }
}

/// A librarian lends, returns and queues through REST meanwhile: the
/// server's own rules writing into the library the desks also write.
async fn rest_circulation(l: &Lib, w: &mut World, rng: &mut Rng) {
    let (Some(card), Some(barcode), Some(title)) =
        (rng.pick(&w.cards).cloned(), rng.pick(&w.barcodes).cloned(), rng.pick(&w.titles).copied())
    else {
        return;
    };
    let auth = l.librarian.auth();
    let r = match rng.below(3) {
        0 => l.s.post(&format!("{}/checkout", l.base), &auth, json!({ "barcode": barcode, "card": card })).await,
        1 => l.s.post(&format!("{}/checkin", l.base), &auth, json!({ "barcode": barcode })).await,
        _ => l.s.post(&format!("{}/titles/{}/holds", l.base, title.0), &auth, json!({ "card": card })).await,
    };
    // Refusals (a copy on loan, a title deleted at a desk) are fine; a
    // server error is not.
    assert!(!r.status.is_server_error(), "REST circulation: {r:?}");
}

/// Pushers that are not honest desks (issue 17): each step tries one thing
/// a broken script, a thief or a too-eager role might push.
struct Hostile {
    /// A device of a second librarian, registered properly.
    site: Uuid,
    own: HttpTransport,
    /// The second librarian's credential, aimed at an honest desk's site.
    thief: HttpTransport,
    /// A member's credential.
    member: HttpTransport,
    /// Tries, and what became of them.
    tried: u32,
    refused: u32,
    accepted_harmless: u32,
}

impl Hostile {
    async fn new(l: &Lib) -> Hostile {
        let other = l.s.user("other-librarian@example.org").await;
        l.s.call(
            Method::PUT,
            &format!("{}/memberships", l.base),
            &l.admin.auth(),
            Some(json!({ "email": "other-librarian@example.org", "role": "librarian" })),
        )
        .await
        .expect(200, "");
        let site = Uuid::now_v7();
        let own = l.transport(&other).with_site(site);
        own.register_device(site, "Script").await.unwrap();
        Hostile { site, own, thief: l.transport(&other), member: l.transport(&l.member), tried: 0, refused: 0, accepted_harmless: 0 }
    }

    async fn push(&mut self, desks: &[(Desk, HttpTransport)], w: &World, rng: &mut Rng) {
        use shelfkeeper_sync::RejectCode as C;
        let ahead = shelfkeeper_sync::hlc::from_parts(chrono::Utc::now().timestamp_millis() as u64 + rng.below(120_000) as u64, 0);
        let mut change = title_change(self.site, ahead);
        self.tried += 1;
        let (transport, site, expect_refused): (&HttpTransport, Uuid, Option<C>) = match rng.below(6) {
            0 => {
                // A payload no desk could apply.
                match rng.below(4) {
                    0 => change.payload["title"] = json!(42),
                    1 => change.payload["contributors"] = json!("not json"),
                    2 => change.payload["created_at"] = json!("yesterday"),
                    _ => change.payload["smuggled"] = json!("x"),
                }
                (&self.own, self.site, Some(C::Malformed))
            }
            1 => {
                // Entity and op that do not go together.
                match rng.below(3) {
                    0 => change.op = Op::Event,
                    1 => change.entity = Entity::Event,
                    _ => {
                        change.entity = Entity::Event;
                        change.op = Op::Delete;
                        change.payload = serde_json::Value::Null;
                    }
                }
                (&self.own, self.site, Some(C::Malformed))
            }
            2 => {
                // A delete under another entity, carrying a title's id,
                // stamped ahead: it must not touch the title.
                let Some(title) = rng.pick(&w.titles).copied() else { return };
                change.entity = if rng.chance(50) { Entity::Member } else { Entity::Copy };
                change.entity_id = title.0;
                change.op = Op::Delete;
                change.payload = serde_json::Value::Null;
                (&self.own, self.site, None)
            }
            3 => {
                // Loan rules from a librarian.
                change.entity = Entity::MemberType;
                change.payload = json!({ "id": change.entity_id.to_string(), "code": format!("vip{}", w.n), "name": "Friends",
                                         "loan_days": 365, "max_renewals": 100, "max_loans": 1000, "hold_pickup_days": 60 });
                (&self.own, self.site, Some(C::Forbidden))
            }
            4 => {
                // Another account pushing under an honest desk's site.
                let victim = desks[rng.below(desks.len())].0.store.site_id().0;
                change.site_id = victim;
                let t = self.thief.clone().with_site(victim);
                let req = PushRequest { protocol: PROTOCOL_VERSION, site_id: victim, changes: vec![change] };
                let r = t.push_page(&req).await;
                assert!(matches!(r, Err(ClientError::Refused { status: 403, .. })), "a stolen device id: {r:?}");
                self.refused += 1;
                return;
            }
            _ => {
                // A member pushing at all.
                let site = Uuid::now_v7();
                change.site_id = site;
                let req = PushRequest { protocol: PROTOCOL_VERSION, site_id: site, changes: vec![change] };
                let r = self.member.clone().with_site(site).push_page(&req).await;
                let refused = match &r {
                    Err(ClientError::Refused { status: 403, .. }) => true,
                    Ok(resp) => resp.accepted.is_empty() && resp.rejected.iter().all(|x| x.code == shelfkeeper_sync::RejectCode::Forbidden),
                    Err(_) => false,
                };
                assert!(refused, "a member's push: {r:?}");
                self.refused += 1;
                return;
            }
        };
        change.site_id = site;
        let id = change.change_id;
        let req = PushRequest { protocol: PROTOCOL_VERSION, site_id: site, changes: vec![change] };
        let r = transport.push_page(&req).await.unwrap_or_else(|e| panic!("hostile push: {e}"));
        match expect_refused {
            Some(code) => {
                let got = r.rejected.iter().find(|x| x.change_id == id);
                assert_eq!(got.map(|x| x.code), Some(code), "refused at the door: {r:?}");
                self.refused += 1;
            }
            None => {
                assert!(r.all_accepted(&req), "a well-formed delete is taken: {r:?}");
                self.accepted_harmless += 1;
            }
        }
    }
}

async fn simulate(l: &Lib, seed: u64) {
    let mut rng = Rng(seed);
    let mut desks = Vec::new();
    for _ in 0..3 {
        desks.push(l.desk().await);
    }
    let dropped = Mutex::new(0u32);
    let mut w = World::default();
    // A shared start.
    let t = desks[0].0.store.add_title(OWNER, &draft("Common")).await.unwrap();
    w.titles.push(t.id);
    for (i, b) in ["C1", "C2"].iter().enumerate() {
        desks[0].0.store.add_copy(OWNER, t.id, &CopyDraft { barcode: (*b).into(), ..Default::default() }).await.unwrap();
        w.barcodes.push((*b).into());
        let card = format!("MC{i}");
        desks[0]
            .0
            .store
            .add_member(
                OWNER,
                &MemberDraft { card: card.clone(), name: "Common".into(), member_type: "adult".into(), ..Default::default() },
            )
            .await
            .unwrap();
        w.cards.push(card);
    }
    for (d, t) in &desks {
        sync(d, t).await;
    }
    let mut hostile = Hostile::new(l).await;
    let steps = 150 + rng.below(100);
    // A desk joins halfway: its first sync loads the snapshot.
    let join_at = steps / 2;
    for step in 0..steps {
        if step == join_at {
            desks.push(l.desk().await);
        }
        let i = rng.below(desks.len());
        match rng.below(8) {
            0 | 1 => {
                let lossy = Lossy { inner: &desks[i].1, rng: Mutex::new(Rng(rng.next())), dropped_after_commit: &dropped };
                let page = 1 + rng.below(15) as u32;
                match desks[i].0.store.sync_once(&lossy, page).await {
                    Ok(_) | Err(SyncError::Transport(_)) => {}
                    Err(e) => panic!("sync failed: {e}"),
                }
            }
            2 if rng.chance(30) => {
                // A librarian writes through the API meanwhile.
                let r =
                    l.s.post(&format!("{}/titles", l.base), &l.librarian.auth(), json!({ "title": format!("API title {seed}-{}", w.n) }))
                        .await;
                r.expect(201, "");
                w.n += 1;
            }
            3 if rng.chance(40) => rest_circulation(l, &mut w, &mut rng).await,
            4 if rng.chance(30) => hostile.push(&desks, &w, &mut rng).await,
            _ => random_op(&desks[i].0.store, &mut w, &mut rng, i).await,
        }
    }
    for _ in 0..2 {
        for (d, t) in &desks {
            sync(d, t).await;
        }
    }
    // And one at the end, from the snapshot alone.
    let (late, late_t) = l.desk().await;
    sync(&late, &late_t).await;
    let mut refs: Vec<&Desk> = desks.iter().map(|(d, _)| d).collect();
    refs.push(&late);
    assert_same(&refs).await;
    let feed = l.feed().await;
    let ids: HashSet<Uuid> = feed.iter().map(|s| s.change.change_id).collect();
    assert_eq!(ids.len(), feed.len(), "each change id once in the feed");
    let events: Vec<Uuid> = feed.iter().filter(|s| s.change.entity == Entity::Event).map(|s| s.change.entity_id).collect();
    let distinct: HashSet<Uuid> = events.iter().copied().collect();
    assert_eq!(distinct.len(), events.len(), "every event exactly once in the feed");
    let dump = desks[0].0.store.sync_dump().await.unwrap();
    let on_desk = dump.lines().find(|l| l.starts_with("## circulation_events")).unwrap().to_owned();
    assert!(on_desk.contains(&format!("({} rows)", events.len())), "every event on every desk: {on_desk} vs {}", events.len());
    for (d, _) in &desks {
        assert_eq!(d.store.sync_status().await.unwrap().pending_changes, 0);
    }
    crate::replica::assert_server_matches(l, &desks[0].0).await;
    let conflicts = desks[0].0.store.sync_conflicts().await.unwrap().len();
    let resolutions = feed.iter().filter(|s| s.change.entity == Entity::ConflictResolution).count();
    assert_eq!(hostile.refused + hostile.accepted_harmless, hostile.tried, "every hostile push refused or harmless");
    for (d, _) in &desks {
        let quarantined = d.store.sync_conflicts().await.unwrap().into_iter().filter(|c| c.kind == "quarantined").count();
        assert_eq!(quarantined, 0, "nothing the door let in needed quarantine");
    }
    eprintln!(
        "seed {seed}: {} changes, {} events, {conflicts} conflicts ({resolutions} resolutions), {} replies dropped after the server committed, \
         {} hostile pushes ({} refused)",
        feed.len(),
        events.len(),
        dropped.lock().unwrap(),
        hostile.tried,
        hostile.refused
    );
}

async fn simulation_of_desks_syncing_through_the_server(b: Backend) {
    let seeds: u64 = std::env::var("SK_SERVER_SYNC_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(100);
    for seed in 0..seeds {
        // A library per seed: the feed and its checks start empty.
        let l = library(b).await;
        simulate(&l, seed).await;
        l.s.shutdown().await;
    }
}
both!(simulation_of_desks_syncing_through_the_server);

// ------------------------------------------------------------ measurement --

/// Initial sync of a generated library over loopback: one desk pushes it
/// all, a new desk pulls it all, through the real server and HTTP.
/// `SK_SYNC_TITLES=5000 cargo test -p shelfkeeper-server --test it sync::initial_sync -- --ignored --nocapture`
async fn initial_sync_of_a_generated_library(b: Backend) {
    let titles: u64 = std::env::var("SK_SYNC_TITLES").ok().and_then(|s| s.parse().ok()).unwrap_or(2_000);
    let page: u32 = std::env::var("SK_SYNC_PAGE").ok().and_then(|s| s.parse().ok()).unwrap_or(500);
    let l = library(b).await;
    let (a, ta) = l.desk().await;
    let spec = shelfkeeper_store::GenerateSpec::scaled(titles);
    a.store.generate(&spec, |_| {}, &std::sync::atomic::AtomicBool::new(false)).await.unwrap();
    let pending = a.store.sync_status().await.unwrap().pending_changes;
    let t0 = std::time::Instant::now();
    let run = a.store.sync_once(&ta, page).await.unwrap();
    let pushed = t0.elapsed();
    let (bd, tb) = l.desk().await;
    let t0 = std::time::Instant::now();
    let got = bd.store.sync_once(&tb, page).await.unwrap();
    let pulled = t0.elapsed();
    let rate = |n: u32, d: std::time::Duration| n as f64 / d.as_secs_f64();
    eprintln!(
        "{b:?}: {titles} titles, {pending} outbox rows -> {} changes pushed in {:.1} s ({:.0}/s); pulled and applied {} in {:.1} s ({:.0}/s); page {page}",
        run.pushed,
        pushed.as_secs_f64(),
        rate(run.pushed, pushed),
        got.pulled,
        pulled.as_secs_f64(),
        rate(got.pulled, pulled)
    );
    // The new desk also pulls back its own default member types.
    assert!(got.pulled >= run.pushed && got.pulled <= run.pushed + 10, "{got:?} after {run:?}");
    l.s.shutdown().await;
}

mod initial_sync_of_a_generated_library {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "a measurement: run with --ignored --nocapture"]
    async fn sqlite() {
        super::initial_sync_of_a_generated_library(crate::support::Backend::Sqlite).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "a measurement: run with --ignored --nocapture"]
    async fn postgres() {
        super::initial_sync_of_a_generated_library(crate::support::Backend::Postgres).await
    }
}
