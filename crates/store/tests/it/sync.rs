//! Sync: the merge rules one by one, then a deterministic simulation of
//! several desks and a relay playing the server (sequence numbers, dedup by
//! change id), with partitions, lost and duplicated replies and crashes
//! between the server accepting a push and the desk recording it.
//!
//! `SK_SYNC_SEEDS=500 cargo test -p shelfkeeper-store --test it sync::` runs
//! more seeds (default 12); `SK_SYNC_SEED=n` runs only seed n;
//! `SK_SYNC_SHARED_KEYS=1` makes every seed (not only odd ones) claim
//! shared barcodes and cards at several desks.

use crate::helpers::*;
use shelfkeeper_domain::Error;
use shelfkeeper_domain::ids::{CopyId, HoldId, TitleId};
use shelfkeeper_domain::model::{CopyDraft, MemberDraft, StoreMode, TitleDraft};
use shelfkeeper_store::{ConflictAction, Store, SyncError, SyncTransport};
use shelfkeeper_sync::{Accepted, Change, Entity, PROTOCOL_VERSION, PullRequest, PullResponse, PushRequest, PushResponse, Sequenced};
use sqlx::Connection;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use tempfile::TempDir;
use uuid::Uuid;

// ------------------------------------------------------------- the relay --

/// The server's part of the protocol, in memory.
#[derive(Default)]
struct Relay {
    feed: Vec<Sequenced>,
    by_id: HashMap<Uuid, u64>,
}

impl Relay {
    fn push(&mut self, req: &PushRequest) -> PushResponse {
        assert_eq!(req.protocol, PROTOCOL_VERSION);
        let now_ms = chrono::Utc::now().timestamp_millis() as u64;
        let mut resp = PushResponse::default();
        for c in &req.changes {
            if let Err(r) = shelfkeeper_sync::check_pushed(c, req.site_id, now_ms) {
                resp.rejected.push(r);
                continue;
            }
            let seq = match self.by_id.get(&c.change_id) {
                Some(seq) => *seq,
                None => {
                    let seq = self.feed.len() as u64 + 1;
                    self.feed.push(Sequenced { server_seq: seq, change: c.clone() });
                    self.by_id.insert(c.change_id, seq);
                    seq
                }
            };
            resp.accepted.push(Accepted { change_id: c.change_id, server_seq: seq });
        }
        resp
    }

    fn pull(&self, req: &PullRequest) -> PullResponse {
        let changes: Vec<Sequenced> = self.feed.iter().filter(|s| s.server_seq > req.after).take(req.limit as usize).cloned().collect();
        let last = changes.last().map_or(req.after, |s| s.server_seq);
        PullResponse { more: last < self.feed.len() as u64, high_water: self.feed.len() as u64, changes }
    }
}

/// The relay behind a transport that loses requests and replies and
/// delivers pushes twice, as the desktop's HTTP client would see it.
struct Faulty<'a> {
    relay: &'a Mutex<Relay>,
    rng: Mutex<Rng>,
    faults: Faults,
}

impl SyncTransport for Faulty<'_> {
    fn push(&self, req: PushRequest) -> impl Future<Output = Result<PushResponse, String>> + Send {
        let mut rng = self.rng.lock().unwrap();
        let out = if rng.chance(self.faults.lose_request) {
            Err("request lost".to_string())
        } else {
            let mut relay = self.relay.lock().unwrap();
            let resp = relay.push(&req);
            if rng.chance(self.faults.duplicate) {
                relay.push(&req);
            }
            if rng.chance(self.faults.lose_reply) { Err("reply lost".to_string()) } else { Ok(resp) }
        };
        std::future::ready(out)
    }

    fn pull(&self, req: PullRequest) -> impl Future<Output = Result<PullResponse, String>> + Send {
        let mut rng = self.rng.lock().unwrap();
        let out = if rng.chance(self.faults.lose_request) || rng.chance(self.faults.lose_reply) {
            Err("lost".to_string())
        } else {
            Ok(self.relay.lock().unwrap().pull(&req))
        };
        std::future::ready(out)
    }
}

// ------------------------------------------------------------ a desk ----

struct Desk {
    store: Store,
    _dir: TempDir,
    /// Cursors seen after each pull: they only move forward.
    cursor: u64,
    /// The last page pulled, to deliver again (a duplicated reply).
    last_page: Option<(Vec<Sequenced>, u64)>,
}

async fn desk() -> Desk {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path().join("desk.sqlite3"), StoreMode::Library).await.unwrap();
    Desk { store, _dir: dir, cursor: 0, last_page: None }
}

/// Faults of one sync attempt, each a probability in percent.
#[derive(Clone, Copy)]
struct Faults {
    lose_request: u32,
    lose_reply: u32,
    duplicate: u32,
}

const NO_FAULTS: Faults = Faults { lose_request: 0, lose_reply: 0, duplicate: 0 };

/// Pushes the whole outbox, page by page. Returns false when a fault cut it short.
async fn push(d: &Desk, relay: &mut Relay, rng: &mut Rng, f: Faults, page: u32) -> bool {
    loop {
        let out = d.store.outbox_page(0, page).await.unwrap();
        if out.changes.is_empty() && out.through_seq == 0 {
            return true;
        }
        let req = PushRequest { protocol: PROTOCOL_VERSION, site_id: d.store.site_id().0, changes: out.changes.clone() };
        if rng.chance(f.lose_request) {
            return false;
        }
        let resp = relay.push(&req);
        if rng.chance(f.duplicate) {
            // Delivered twice: the relay answers with the same sequences.
            assert_eq!(relay.push(&req), resp);
        }
        if rng.chance(f.lose_reply) {
            // The server has it; the desk crashed or lost the reply before
            // recording the acknowledgement: it pushes the same ids again.
            return false;
        }
        assert!(resp.all_accepted(&req), "rejected: {:?}", resp.rejected);
        d.store.ack_pushed(out.through_seq).await.unwrap();
        if !out.more {
            return true;
        }
    }
}

/// Pulls until the feed is exhausted. Returns false when a fault cut it short.
async fn pull(d: &mut Desk, relay: &Relay, rng: &mut Rng, f: Faults, page: u32) -> bool {
    loop {
        let req = PullRequest { protocol: PROTOCOL_VERSION, after: d.store.sync_cursor().await.unwrap(), limit: page };
        assert_eq!(req.after, d.cursor, "the cursor is what the last applied page left");
        if rng.chance(f.lose_request) {
            return false;
        }
        let resp = relay.pull(&req);
        if rng.chance(f.lose_reply) {
            return false;
        }
        let cursor = resp.cursor_after(&req);
        let report = d.store.apply_remote(&resp.changes, cursor).await.unwrap();
        assert_eq!(report.cursor, cursor);
        if rng.chance(f.duplicate) {
            // The same reply again, or an older page: nothing changes.
            let before = d.store.sync_dump().await.unwrap();
            let (old, old_cursor) = d.last_page.clone().unwrap_or((resp.changes.clone(), cursor));
            let again = d.store.apply_remote(&old, old_cursor).await.unwrap();
            assert_eq!((again.applied, again.cursor), (0, cursor), "a page applied again changes nothing");
            assert_eq!(d.store.sync_dump().await.unwrap(), before);
        }
        assert!(cursor >= d.cursor, "cursors only move forward");
        d.cursor = d.store.sync_cursor().await.unwrap();
        assert_eq!(d.cursor, cursor);
        d.last_page = Some((resp.changes, cursor));
        if !resp.more {
            return true;
        }
    }
}

async fn sync_all(desks: &mut [Desk], relay: &mut Relay) {
    let mut rng = Rng(1);
    for _ in 0..2 {
        for d in desks.iter() {
            assert!(push(d, relay, &mut rng, NO_FAULTS, 50).await);
        }
        for d in desks.iter_mut() {
            assert!(pull(d, relay, &mut rng, NO_FAULTS, 50).await);
        }
    }
}

async fn assert_converged(desks: &[Desk]) -> String {
    let first = desks[0].store.sync_dump().await.unwrap();
    for (i, d) in desks.iter().enumerate().skip(1) {
        let dump = d.store.sync_dump().await.unwrap();
        if dump != first {
            let diff: Vec<String> = first
                .lines()
                .zip(dump.lines())
                .filter(|(a, b)| a != b)
                .take(6)
                .map(|(a, b)| format!("  desk 0: {a}\n  desk {i}: {b}"))
                .collect();
            panic!("desk {i} differs from desk 0:\n{}", diff.join("\n"));
        }
    }
    first
}

async fn db(store: &Store) -> sqlx::SqliteConnection {
    sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=ro", store.path().display())).await.unwrap()
}

async fn scalar(conn: &mut sqlx::SqliteConnection, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(conn).await.unwrap()
}

/// What must hold on every replica after merging.
async fn assert_merged_invariants(store: &Store) {
    let mut conn = db(store).await;
    let bad_counts = scalar(
        &mut conn,
        "SELECT count(*) FROM titles t WHERE t.copy_count <> (SELECT count(*) FROM copies c WHERE c.title_id = t.id)
            OR t.available_count <> (SELECT count(*) FROM copies c WHERE c.title_id = t.id AND c.status = 'available')",
    )
    .await;
    assert_eq!(bad_counts, 0, "copy counters match the copies");
    let loan_vs_status = scalar(
        &mut conn,
        "SELECT count(*) FROM copies c WHERE (c.status = 'on_loan') <>
            EXISTS (SELECT 1 FROM loans l WHERE l.copy_id = c.id AND l.returned_at IS NULL AND l.lost_at IS NULL)",
    )
    .await;
    assert_eq!(loan_vs_status, 0, "a copy is on loan exactly when it has an open loan");
    let unindexed = scalar(
        &mut conn,
        "SELECT count(*) FROM titles t WHERE NOT EXISTS (SELECT 1 FROM title_terms tt WHERE tt.title_seq = t.seq) AND t.subjects <> '[]'",
    )
    .await;
    assert_eq!(unindexed, 0, "subjects are indexed");
    let clock = scalar(&mut conn, "SELECT hlc FROM clock").await;
    let newest = scalar(&mut conn, "SELECT max(m) FROM (SELECT max(hlc) m FROM titles UNION ALL SELECT max(hlc) FROM circulation_events UNION ALL SELECT max(hlc) FROM tombstones)").await;
    assert!(clock >= newest, "the clock is past every stamp it has seen");
    let unsynced = scalar(&mut conn, "SELECT count(*) FROM clock WHERE in_write <> 0 OR origin <> 0").await;
    assert_eq!(unsynced, 0);
}

/// Pairs of events on one copy that follow the same event, and how many of
/// them are recorded as conflicts.
async fn concurrent_pairs(store: &Store) -> (i64, i64, i64) {
    let mut conn = db(store).await;
    let pairs = "FROM circulation_events a JOIN circulation_events b
                   ON b.stream_id = a.stream_id AND b.prev_event_id IS a.prev_event_id AND a.id < b.id
                 WHERE a.stream_id = a.copy_id";
    let all = scalar(&mut conn, &format!("SELECT count(*) {pairs}")).await;
    let lent_twice = scalar(&mut conn, &format!("SELECT count(*) {pairs} AND a.kind = 'checked_out' AND b.kind = 'checked_out'")).await;
    let recorded = scalar(
        &mut conn,
        &format!(
            "SELECT count(*) {pairs} AND EXISTS (SELECT 1 FROM sync_conflicts k WHERE k.kind = 'concurrent_events'
                AND k.event_a = a.id AND k.event_b = b.id AND k.entity_id = a.stream_id)"
        ),
    )
    .await;
    let conflicts = scalar(&mut conn, "SELECT count(*) FROM sync_conflicts WHERE kind = 'concurrent_events'").await;
    assert_eq!(recorded, all, "every pair of concurrent events on a copy is a conflict");
    assert_eq!(conflicts, all, "and nothing else is");
    (all, lent_twice, recorded)
}

// ------------------------------------------------------ focused rules --

async fn pair() -> (Vec<Desk>, Relay) {
    (vec![desk().await, desk().await], Relay::default())
}

/// Two desks that both lent copy B1 (of "Dune") while apart, Ada (M1) at
/// desk 0 and Grace (M2) at desk 1, then synced.
async fn copy_lent_at_two_desks() -> (Vec<Desk>, Relay) {
    let (mut desks, mut relay) = pair().await;
    title_with_copies(&desks[0].store, "Dune", &["B1"]).await;
    member(&desks[0].store, "M1", "Ada").await;
    member(&desks[0].store, "M2", "Grace").await;
    sync_all(&mut desks, &mut relay).await;
    desks[0].store.check_out(OWNER, "M1", "B1").await.unwrap();
    desks[1].store.check_out(OWNER, "M2", "B1").await.unwrap();
    sync_all(&mut desks, &mut relay).await;
    (desks, relay)
}

fn edited(title: &str, subtitle: &str) -> TitleDraft {
    TitleDraft { subtitle: Some(subtitle.into()), ..draft(title, "Frank Herbert") }
}

#[tokio::test]
async fn a_new_desk_receives_everything_and_own_changes_come_back_as_no_ops() {
    let (mut desks, mut relay) = pair().await;
    let dune = title_with_copies(&desks[0].store, "Dune", &["B1", "B2"]).await;
    member(&desks[0].store, "M1", "Ada").await;
    desks[0].store.check_out(OWNER, "M1", "B1").await.unwrap();
    sync_all(&mut desks, &mut relay).await;
    assert_converged(&desks).await;
    let b = &desks[1].store;
    assert_eq!(b.title(dune.id).await.unwrap().copy_count, 2);
    assert_eq!(b.title(dune.id).await.unwrap().available_count, 1);
    assert_eq!(b.loans_of_member(b.member("M1").await.unwrap().id, false).await.unwrap().len(), 1);
    // Search finds what arrived (the index is maintained while applying).
    let page = b.search(&shelfkeeper_domain::search::SearchRequest { text: "dune".into(), ..Default::default() }).await.unwrap();
    assert_eq!(page.hits.len(), 1);
    // Everything pushed is acknowledged: the outbox is empty.
    assert_eq!(desks[0].store.sync_status().await.unwrap().pending_changes, 0);
    assert!(desks[0].store.outbox_page(0, 10).await.unwrap().changes.is_empty());
    // The desk that wrote the changes pulled them back: nothing changed there.
    assert_merged_invariants(&desks[0].store).await;
    assert_merged_invariants(b).await;
}

#[tokio::test]
async fn concurrent_edits_of_a_row_converge_on_the_newest() {
    let (mut desks, mut relay) = pair().await;
    let dune = desks[0].store.add_title(OWNER, &draft("Dune", "Frank Herbert")).await.unwrap();
    sync_all(&mut desks, &mut relay).await;
    desks[1].store.update_title(OWNER, dune.id, &edited("Dune", "older edit at desk 1")).await.unwrap();
    // Later by the clock, not only in program order (see below).
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    desks[0].store.update_title(OWNER, dune.id, &edited("Dune", "newer edit at desk 0")).await.unwrap();
    // Desk 1 pushes first, desk 0 pulls desk 1's older edit over its own
    // unpushed newer one: the older one must not win, and desk 0 still
    // pushes its own version.
    sync_all(&mut desks, &mut relay).await;
    assert_converged(&desks).await;
    for d in &desks {
        assert_eq!(d.store.title(dune.id).await.unwrap().subtitle.as_deref(), Some("newer edit at desk 0"));
    }
}

#[tokio::test]
async fn a_received_edit_freezes_the_local_version_until_it_is_pushed() {
    let (mut desks, mut relay) = pair().await;
    let dune = desks[0].store.add_title(OWNER, &draft("Dune", "Frank Herbert")).await.unwrap();
    sync_all(&mut desks, &mut relay).await;
    desks[0].store.update_title(OWNER, dune.id, &edited("Dune", "desk 0, older")).await.unwrap();
    // Later by the clock, not only in program order (see below).
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    desks[1].store.update_title(OWNER, dune.id, &edited("Dune", "desk 1, newer")).await.unwrap();
    let before = desks[0].store.outbox_page(0, 10).await.unwrap();
    // Desk 1 pushes; desk 0 pulls before pushing: its row now shows desk 1's version...
    assert!(push(&desks[1], &mut relay, &mut Rng(1), NO_FAULTS, 10).await);
    assert!(pull(&mut desks[0], &relay, &mut Rng(1), NO_FAULTS, 10).await);
    assert_eq!(desks[0].store.title(dune.id).await.unwrap().subtitle.as_deref(), Some("desk 1, newer"));
    // ...but its outbox still sends its own edit, with the same change id.
    let after = desks[0].store.outbox_page(0, 10).await.unwrap();
    assert_eq!(after, before);
    assert_eq!(after.changes[0].payload["subtitle"], "desk 0, older");
    sync_all(&mut desks, &mut relay).await;
    assert_converged(&desks).await;
    assert_eq!(desks[0].store.title(dune.id).await.unwrap().subtitle.as_deref(), Some("desk 1, newer"));
}

#[tokio::test]
async fn a_delete_beats_older_edits_and_a_newer_edit_is_kept_not_resurrected() {
    let (mut desks, mut relay) = pair().await;
    let dune = desks[0].store.add_title(OWNER, &draft("Dune", "Frank Herbert")).await.unwrap();
    let emma = desks[0].store.add_title(OWNER, &draft("Emma", "Jane Austen")).await.unwrap();
    sync_all(&mut desks, &mut relay).await;
    // "Newer" is by each desk's clock: within one millisecond two desks'
    // stamps order by their counters, not by which came first, so each
    // ordered pair below is a few milliseconds apart.
    let tick = || tokio::time::sleep(std::time::Duration::from_millis(5));
    // Dune: edited at desk 1, then deleted at desk 0 (the delete is newer).
    desks[1].store.update_title(OWNER, dune.id, &edited("Dune", "edit before the delete")).await.unwrap();
    tick().await;
    desks[0].store.delete_title(OWNER, dune.id).await.unwrap();
    // Emma: deleted at desk 0, then edited at desk 1 (the edit is newer).
    desks[0].store.delete_title(OWNER, emma.id).await.unwrap();
    tick().await;
    desks[1].store.update_title(OWNER, emma.id, &edited("Emma", "edit after the delete")).await.unwrap();
    sync_all(&mut desks, &mut relay).await;
    assert_converged(&desks).await;
    for d in &desks {
        assert!(matches!(d.store.title(dune.id).await, Err(Error::TitleNotFound(_))));
        assert!(matches!(d.store.title(emma.id).await, Err(Error::TitleNotFound(_))));
        let conflicts = d.store.sync_conflicts().await.unwrap();
        assert_eq!(conflicts.len(), 1, "{conflicts:?}");
        assert_eq!((conflicts[0].kind.as_str(), conflicts[0].entity_id), ("kept_row", emma.id.0));
        assert!(conflicts[0].payload.as_deref().unwrap().contains("edit after the delete"));
    }
}

#[tokio::test]
async fn a_copy_added_to_a_title_deleted_elsewhere_is_kept() {
    let (mut desks, mut relay) = pair().await;
    let dune = desks[0].store.add_title(OWNER, &draft("Dune", "Frank Herbert")).await.unwrap();
    sync_all(&mut desks, &mut relay).await;
    desks[0].store.delete_title(OWNER, dune.id).await.unwrap();
    desks[1].store.add_copy(OWNER, dune.id, &CopyDraft { barcode: "B9".into(), ..Default::default() }).await.unwrap();
    sync_all(&mut desks, &mut relay).await;
    assert_converged(&desks).await;
    for d in &desks {
        assert!(matches!(d.store.copy("B9").await, Err(Error::CopyNotFound(_))));
        let conflicts = d.store.sync_conflicts().await.unwrap();
        assert_eq!(conflicts.iter().map(|c| (c.kind.as_str(), c.entity.as_str())).collect::<Vec<_>>(), [("kept_row", "copy")]);
        assert_merged_invariants(&d.store).await;
    }
}

#[tokio::test]
async fn a_copy_lent_at_two_desks_is_a_conflict_and_one_deterministic_loan() {
    let (mut desks, mut relay) = copy_lent_at_two_desks().await;
    assert_converged(&desks).await;
    for d in &desks {
        let copy = d.store.copy("B1").await.unwrap();
        let loans = d.store.loans_of_copy(copy.id).await.unwrap();
        assert_eq!(loans.len(), 2, "both loans are kept");
        let open: Vec<_> = loans.iter().filter(|l| l.is_open()).collect();
        assert_eq!(open.len(), 1, "one is open: the newer check-out (desk 1's)");
        assert_eq!(open[0].card, "M2");
        let conflicts = d.store.sync_conflicts().await.unwrap();
        assert_eq!(conflicts.len(), 1);
        assert_eq!((conflicts[0].kind.as_str(), conflicts[0].entity_id), ("concurrent_events", copy.id.0));
        assert_eq!(concurrent_pairs(&d.store).await, (1, 1, 1));
        assert_merged_invariants(&d.store).await;
    }
    // The desk goes on: B1 is returned, and lent again without a conflict.
    desks[0].store.check_in(OWNER, "B1").await.unwrap();
    sync_all(&mut desks, &mut relay).await;
    desks[1].store.check_out(OWNER, "M1", "B1").await.unwrap();
    sync_all(&mut desks, &mut relay).await;
    assert_converged(&desks).await;
    assert_eq!(desks[0].store.sync_conflicts().await.unwrap().len(), 1);
}

#[tokio::test]
async fn resolving_a_conflict_syncs_to_every_desk_and_the_later_resolution_wins() {
    let (mut desks, mut relay) = copy_lent_at_two_desks().await;
    let key = desks[0].store.sync_conflicts().await.unwrap()[0].key.clone();
    for d in &desks {
        assert_eq!(d.store.sync_status().await.unwrap().open_conflicts, 1);
    }

    // A member account may not settle it; a wrong key is named.
    let member_actor = shelfkeeper_domain::access::Actor::account(
        shelfkeeper_domain::ids::AccountId::new(),
        shelfkeeper_domain::model::Role::Member,
        None,
    );
    let refused = desks[0].store.resolve_conflict(&member_actor, &key, ConflictAction::Acknowledged, "").await;
    assert!(matches!(refused, Err(Error::PermissionDenied { .. })), "{refused:?}");
    let unknown = desks[0].store.resolve_conflict(OWNER, "events:nope", ConflictAction::Acknowledged, "").await;
    assert!(matches!(unknown, Err(Error::ConflictNotFound(_))), "{unknown:?}");
    let discard = desks[0].store.resolve_conflict(OWNER, &key, ConflictAction::Discarded, "").await;
    assert!(matches!(discard, Err(Error::Invalid { field: "action", .. })), "only kept rows are discarded: {discard:?}");

    // Both desks settle it while apart; after syncing, the later note is everywhere.
    let first = desks[0].store.resolve_conflict(OWNER, &key, ConflictAction::Acknowledged, "Ada has it").await.unwrap();
    assert_eq!((first.resolution.as_deref(), first.resolved_by.as_deref()), (Some("acknowledged"), Some("owner")));
    assert_eq!(desks[0].store.sync_status().await.unwrap().open_conflicts, 0);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    desks[1].store.resolve_conflict(OWNER, &key, ConflictAction::Acknowledged, "Grace brought it back").await.unwrap();
    sync_all(&mut desks, &mut relay).await;
    assert_converged(&desks).await;
    for d in &desks {
        assert_eq!(d.store.sync_status().await.unwrap().open_conflicts, 0);
        let c = &d.store.sync_conflicts().await.unwrap()[0];
        assert_eq!((c.subject.as_deref(), c.members.as_deref()), (Some("B1 — Dune"), Some("M1 and M2")));
        assert_eq!(c.resolution_note.as_deref(), Some("Grace brought it back"));
        assert!(c.resolved_at.is_some());
    }
    let resolutions = relay.feed.iter().filter(|s| s.change.entity == Entity::ConflictResolution).count();
    assert_eq!(resolutions, 2, "each desk pushed its resolution once");
}

#[tokio::test]
async fn a_resolution_covers_the_conflict_as_it_was_and_a_newer_kept_version_reopens_it() {
    let (mut desks, mut relay) = pair().await;
    let emma = desks[0].store.add_title(OWNER, &draft("Emma", "Jane Austen")).await.unwrap();
    sync_all(&mut desks, &mut relay).await;
    desks[0].store.delete_title(OWNER, emma.id).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    desks[1].store.update_title(OWNER, emma.id, &edited("Emma", "first edit after the delete")).await.unwrap();
    sync_all(&mut desks, &mut relay).await;
    let key = format!("row:{}", emma.id.0);
    let c = desks[1].store.resolve_conflict(OWNER, &key, ConflictAction::Discarded, "deleted on purpose").await.unwrap();
    assert_eq!(c.resolution.as_deref(), Some("discarded"));
    sync_all(&mut desks, &mut relay).await;
    assert_eq!(desks[0].store.sync_status().await.unwrap().open_conflicts, 0);

    // A newer version arrives from a third desk that was away (edited
    // before it heard of the delete): the conflict is open again.
    let row = shelfkeeper_sync::Change {
        change_id: Uuid::now_v7(),
        entity: Entity::Title,
        entity_id: emma.id.0,
        op: shelfkeeper_sync::Op::Upsert,
        hlc: shelfkeeper_sync::hlc::from_parts(chrono::Utc::now().timestamp_millis() as u64, 0),
        site_id: Uuid::now_v7(),
        payload: {
            let last = relay.feed.iter().rev().find(|s| s.change.entity_id == emma.id.0 && !s.change.payload.is_null());
            let mut p = last.unwrap().change.payload.clone();
            p["subtitle"] = "second edit, from a desk that was away".into();
            p
        },
    };
    relay.feed.push(Sequenced { server_seq: relay.feed.len() as u64 + 1, change: row });
    sync_all(&mut desks, &mut relay).await;
    assert_converged(&desks).await;
    for d in &desks {
        let c = &d.store.sync_conflicts().await.unwrap()[0];
        assert!(c.payload.as_deref().unwrap().contains("second edit"), "{c:?}");
        assert_eq!(c.subject.as_deref(), Some("Emma"), "the subject of a deleted row comes from its kept version");
        assert_eq!(c.resolved_at, None, "a newer kept version than the one resolved is open again");
        assert_eq!(d.store.sync_status().await.unwrap().open_conflicts, 1);
    }
}

#[tokio::test]
async fn a_copy_withdrawn_at_one_desk_while_lent_at_another_keeps_its_loan_visible() {
    let (mut desks, mut relay) = pair().await;
    title_with_copies(&desks[0].store, "Dune", &["B1"]).await;
    let ada = member(&desks[0].store, "M1", "Ada").await;
    sync_all(&mut desks, &mut relay).await;
    desks[0].store.delete_copy(OWNER, "B1").await.unwrap();
    desks[1].store.check_out(OWNER, "M1", "B1").await.unwrap();
    sync_all(&mut desks, &mut relay).await;
    assert_converged(&desks).await;
    for d in &desks {
        assert!(matches!(d.store.copy("B1").await, Err(Error::CopyNotFound(_))));
        let loans = d.store.loans_of_member(ada.id, false).await.unwrap();
        assert_eq!(loans.len(), 1, "the loan is still there");
        let conflicts = d.store.sync_conflicts().await.unwrap();
        assert_eq!(
            conflicts.iter().map(|c| (c.kind.as_str(), c.event_a)).collect::<Vec<_>>(),
            [("loan_of_deleted_copy", Some(loans[0].id.0))]
        );
    }
}

#[tokio::test]
async fn a_check_in_beats_an_older_concurrent_renewal() {
    let (mut desks, mut relay) = pair().await;
    title_with_copies(&desks[0].store, "Dune", &["B1"]).await;
    member(&desks[0].store, "M1", "Ada").await;
    desks[0].store.check_out(OWNER, "M1", "B1").await.unwrap();
    sync_all(&mut desks, &mut relay).await;
    desks[1].store.renew(OWNER, "B1").await.unwrap();
    desks[0].store.check_in(OWNER, "B1").await.unwrap();
    // Desk 0's check-in arrives first at the relay, desk 1's older renewal later.
    assert!(push(&desks[0], &mut relay, &mut Rng(1), NO_FAULTS, 10).await);
    sync_all(&mut desks, &mut relay).await;
    assert_converged(&desks).await;
    for d in &desks {
        assert_eq!(d.store.copy("B1").await.unwrap().status.as_str(), "available");
        assert_eq!(d.store.sync_conflicts().await.unwrap().len(), 1, "renewed and returned at once: staff look");
        assert_merged_invariants(&d.store).await;
    }
}

#[tokio::test]
async fn events_of_one_transaction_replay_in_the_order_they_were_made() {
    let (mut desks, mut relay) = pair().await;
    let dune = title_with_copies(&desks[0].store, "Dune", &["B1"]).await;
    for (card, name) in [("M1", "Ada"), ("M2", "Grace"), ("M3", "Edsger")] {
        member(&desks[0].store, card, name).await;
    }
    desks[0].store.check_out(OWNER, "M1", "B1").await.unwrap();
    desks[0].store.place_hold(OWNER, "M2", dune.id).await.unwrap();
    sync_all(&mut desks, &mut relay).await;
    // Desk 0: the check-in and the trap for M2, one transaction, one stamp.
    let receipt = desks[0].store.check_in(OWNER, "B1").await.unwrap();
    assert_eq!(receipt.hold.unwrap().card, "M2");
    // Desk 1, later and unaware: another hold on the title. Desk 1 then
    // receives desk 0's older pair and replays the title.
    desks[1].store.place_hold(OWNER, "M3", dune.id).await.unwrap();
    assert!(push(&desks[1], &mut relay, &mut Rng(1), NO_FAULTS, 10).await);
    sync_all(&mut desks, &mut relay).await;
    assert_converged(&desks).await;
    for d in &desks {
        assert_eq!(d.store.copy("B1").await.unwrap().status.as_str(), "on_hold_shelf");
        let queue = d.store.holds_of_title(dune.id).await.unwrap();
        assert_eq!(queue.iter().map(|h| (h.card.as_str(), h.status.as_str())).collect::<Vec<_>>(), [("M2", "ready"), ("M3", "waiting")]);
        assert_merged_invariants(&d.store).await;
    }
}

#[tokio::test]
async fn one_barcode_claimed_at_two_desks_is_renamed_on_the_larger_id() {
    let (mut desks, mut relay) = pair().await;
    let dune = desks[0].store.add_title(OWNER, &draft("Dune", "Frank Herbert")).await.unwrap();
    sync_all(&mut desks, &mut relay).await;
    let a = desks[0].store.add_copy(OWNER, dune.id, &CopyDraft { barcode: "B1".into(), ..Default::default() }).await.unwrap();
    let b = desks[1].store.add_copy(OWNER, dune.id, &CopyDraft { barcode: "B1".into(), ..Default::default() }).await.unwrap();
    sync_all(&mut desks, &mut relay).await;
    assert_converged(&desks).await;
    let (keeps, renamed) = if a.id.0 < b.id.0 { (a.id, b.id) } else { (b.id, a.id) };
    for d in &desks {
        assert_eq!(d.store.copy("B1").await.unwrap().id, keeps);
        let copies = d.store.copies_of(dune.id).await.unwrap();
        let other = copies.iter().find(|c| c.id == renamed).unwrap();
        assert!(other.barcode.starts_with("B1~"), "{}", other.barcode);
        let conflicts = d.store.sync_conflicts().await.unwrap();
        assert_eq!(conflicts.iter().map(|c| (c.kind.as_str(), c.entity_id)).collect::<Vec<_>>(), [("duplicate_key", renamed.0)]);
    }
}

#[tokio::test]
async fn a_renamed_row_gets_its_key_back_when_the_holder_goes() {
    let (mut desks, mut relay) = pair().await;
    let dune = desks[0].store.add_title(OWNER, &draft("Dune", "Frank Herbert")).await.unwrap();
    sync_all(&mut desks, &mut relay).await;
    let a = desks[0].store.add_copy(OWNER, dune.id, &CopyDraft { barcode: "B1".into(), ..Default::default() }).await.unwrap();
    let b = desks[1].store.add_copy(OWNER, dune.id, &CopyDraft { barcode: "B1".into(), ..Default::default() }).await.unwrap();
    sync_all(&mut desks, &mut relay).await;
    let (keeps, renamed) = if a.id.0 < b.id.0 { (0, b.id) } else { (1, a.id) };
    // The desk whose copy holds B1 withdraws it: the other copy is B1 again
    // everywhere, and the conflict is over.
    desks[keeps].store.delete_copy(OWNER, "B1").await.unwrap();
    sync_all(&mut desks, &mut relay).await;
    assert_converged(&desks).await;
    for d in &desks {
        assert_eq!(d.store.copy("B1").await.unwrap().id, renamed);
        assert!(d.store.sync_conflicts().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn default_member_types_are_the_same_rows_everywhere() {
    let (mut desks, mut relay) = pair().await;
    sync_all(&mut desks, &mut relay).await;
    assert_converged(&desks).await;
    assert!(desks[0].store.sync_conflicts().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_desk_that_joins_later_does_not_reset_the_loan_rules() {
    let (mut desks, mut relay) = pair().await;
    let mut adult = desks[0].store.member_types().await.unwrap().into_iter().find(|t| t.code == "adult").unwrap();
    adult.loan_days = 9;
    desks[0].store.save_member_type(OWNER, &adult).await.unwrap();
    sync_all(&mut desks[..1], &mut relay).await;
    // A new desk, created (and seeded with the defaults) after the edit.
    desks.push(desk().await);
    sync_all(&mut desks, &mut relay).await;
    assert_converged(&desks).await;
    for d in &desks {
        let adult = d.store.member_types().await.unwrap().into_iter().find(|t| t.code == "adult").unwrap();
        assert_eq!(adult.loan_days, 9);
    }
}

#[tokio::test]
async fn the_outbox_keeps_change_ids_until_acknowledged() {
    let (desks, mut relay) = pair().await;
    let s = &desks[0].store;
    title_with_copies(s, "Dune", &["B1"]).await;
    let first = s.outbox_page(0, 100).await.unwrap();
    assert_eq!(s.outbox_page(0, 100).await.unwrap(), first, "reading again gives the same ids");
    assert!(first.changes.iter().any(|c| c.entity == Entity::Copy));
    // Pages: a small page covers part of the log, and continues after it.
    let one = s.outbox_page(0, 1).await.unwrap();
    assert!(one.more);
    let rest = s.outbox_page(one.through_seq, 100).await.unwrap();
    let ids = |cs: &[Change]| cs.iter().map(|c| c.change_id).collect::<Vec<_>>();
    assert_eq!([ids(&one.changes), ids(&rest.changes)].concat(), ids(&first.changes));
    // Pushed twice (a lost reply): stored once, same sequences.
    let req = PushRequest { protocol: PROTOCOL_VERSION, site_id: s.site_id().0, changes: first.changes.clone() };
    let r1 = relay.push(&req);
    let r2 = relay.push(&req);
    assert_eq!(r1, r2);
    assert_eq!(relay.feed.len(), first.changes.len());
    s.ack_pushed(first.through_seq).await.unwrap();
    assert!(s.outbox_page(0, 100).await.unwrap().changes.is_empty());
    assert_eq!(s.sync_status().await.unwrap().pending_changes, 0);
}

#[tokio::test]
async fn the_driver_syncs_desks_and_keeps_refused_changes() {
    let (desks, _) = pair().await;
    let relay = Mutex::new(Relay::default());
    let clean = Faulty { relay: &relay, rng: Mutex::new(Rng(1)), faults: NO_FAULTS };
    title_with_copies(&desks[0].store, "Dune", &["B1", "B2"]).await;
    let run = desks[0].store.sync_once(&clean, 3).await.unwrap();
    assert!(run.pushed > 0);
    let run = desks[1].store.sync_once(&clean, 3).await.unwrap();
    assert_eq!(run.cursor, relay.lock().unwrap().feed.len() as u64);
    assert!(run.applied > 0);
    desks[0].store.sync_once(&clean, 3).await.unwrap();
    assert_converged(&desks).await;

    // A server that refuses (a clock far ahead): nothing leaves the outbox.
    struct Refusing;
    impl SyncTransport for Refusing {
        fn push(&self, req: PushRequest) -> impl Future<Output = Result<PushResponse, String>> + Send {
            let rejected = req
                .changes
                .iter()
                .map(|c| shelfkeeper_sync::Rejected {
                    change_id: c.change_id,
                    code: shelfkeeper_sync::RejectCode::ClockSkew,
                    reason: "ahead".into(),
                })
                .collect();
            std::future::ready(Ok(PushResponse { accepted: vec![], rejected }))
        }
        fn pull(&self, _: PullRequest) -> impl Future<Output = Result<PullResponse, String>> + Send {
            std::future::ready(Err("unused".to_string()))
        }
    }
    member(&desks[1].store, "M1", "Ada").await;
    let pending = desks[1].store.sync_status().await.unwrap().pending_changes;
    assert!(matches!(desks[1].store.sync_once(&Refusing, 10).await, Err(SyncError::Rejected(r)) if r.len() == 1));
    assert_eq!(desks[1].store.sync_status().await.unwrap().pending_changes, pending);
    desks[1].store.sync_once(&clean, 10).await.unwrap();
    desks[0].store.sync_once(&clean, 10).await.unwrap();
    assert_converged(&desks).await;
}

#[tokio::test]
async fn receiving_moves_the_clock_past_the_sender_and_cursors_never_go_back() {
    let (mut desks, mut relay) = pair().await;
    title_with_copies(&desks[0].store, "Dune", &["B1"]).await;
    sync_all(&mut desks, &mut relay).await;
    let newest = relay.feed.iter().map(|s| s.change.hlc).max().unwrap();
    let mut conn = db(&desks[1].store).await;
    assert!(scalar(&mut conn, "SELECT hlc FROM clock").await as u64 >= newest);
    let cursor = desks[1].store.sync_cursor().await.unwrap();
    assert_eq!(cursor, relay.feed.len() as u64);
    let report = desks[1].store.apply_remote(&relay.feed[..1], 1).await.unwrap();
    assert_eq!((report.applied, report.cursor), (0, cursor));
    assert_eq!(desks[1].store.sync_cursor().await.unwrap(), cursor);
}

/// Seen from outside before: one title change with `"title": 42` (or an
/// event of kind "x") in the feed failed every pull of every desk for good.
/// Now each is quarantined where it cannot apply, the rest of the page
/// applies, the cursor moves on, and a new desk joins as well.
#[tokio::test]
async fn a_change_no_desk_can_apply_is_quarantined_and_sync_goes_on() {
    let (mut desks, mut relay) = pair().await;
    let dune = title_with_copies(&desks[0].store, "Dune", &["B1"]).await;
    sync_all(&mut desks, &mut relay).await;

    let intruder = Uuid::now_v7();
    let now = shelfkeeper_sync::hlc::from_parts(chrono::Utc::now().timestamp_millis() as u64, 0);
    let hostile = |entity: Entity, op: shelfkeeper_sync::Op, id: Uuid, payload: serde_json::Value| Change {
        change_id: Uuid::now_v7(),
        entity,
        entity_id: id,
        op,
        hlc: now,
        site_id: intruder,
        payload,
    };
    let mut bad_title = relay.feed.iter().find(|s| s.change.entity_id == dune.id.0).unwrap().change.payload.clone();
    let other = Uuid::now_v7();
    bad_title["id"] = other.to_string().into();
    bad_title["title"] = 42.into();
    let event = Uuid::now_v7();
    let feed = [
        hostile(Entity::Title, shelfkeeper_sync::Op::Upsert, other, bad_title),
        hostile(
            Entity::Event,
            shelfkeeper_sync::Op::Event,
            event,
            serde_json::json!({"id": event.to_string(), "stream_id": event.to_string(), "kind": "x",
                               "title_id": dune.id.0.to_string(), "occurred_at": "2026-12-02T10:00:00Z"}),
        ),
    ];
    for change in feed {
        relay.feed.push(Sequenced { server_seq: relay.feed.len() as u64 + 1, change });
    }
    let emma = desks[0].store.add_title(OWNER, &draft("Emma", "Jane Austen")).await.unwrap();
    sync_all(&mut desks, &mut relay).await;
    desks.push(desk().await);
    sync_all(&mut desks, &mut relay).await;

    assert_converged(&desks).await;
    for d in &desks {
        assert_eq!(d.store.title(emma.id).await.unwrap().title, "Emma", "what came after the bad changes applied");
        assert!(d.store.title(TitleId(other)).await.is_err(), "the bad title was not applied");
        assert_eq!(d.store.sync_cursor().await.unwrap(), relay.feed.len() as u64);
        let quarantined: Vec<_> = d.store.sync_conflicts().await.unwrap().into_iter().filter(|c| c.kind == "quarantined").collect();
        let details: Vec<&str> = quarantined.iter().map(|c| c.detail.as_deref().unwrap()).collect();
        assert_eq!(quarantined.len(), 2, "{details:?}");
        assert!(details.iter().any(|d| d.contains("title column title: expected a string, got 42")), "{details:?}");
        assert!(details.iter().any(|d| d.contains("unknown event kind 'x'")), "{details:?}");
        // Kept verbatim, to look at or to re-apply after an update.
        let kept: Change = serde_json::from_str(quarantined[0].payload.as_deref().unwrap()).unwrap();
        assert_eq!(kept.site_id, intruder);
    }
    // Staff mark it resolved like any conflict, and that syncs.
    let key = desks[1].store.sync_conflicts().await.unwrap().into_iter().find(|c| c.kind == "quarantined").unwrap().key;
    desks[1].store.resolve_conflict(OWNER, &key, ConflictAction::Acknowledged, "pushed by a broken script").await.unwrap();
    sync_all(&mut desks, &mut relay).await;
    let c = desks[2].store.sync_conflicts().await.unwrap().into_iter().find(|c| c.key == key).unwrap();
    assert_eq!(c.resolution_note.as_deref(), Some("pushed by a broken script"));
}

/// Issue 17: tombstones were keyed by id alone, so a delete pushed as a
/// *member* carrying a title's id (stamped a little ahead) made every desk
/// that applied it keep the title's older edits aside instead of applying
/// them. A tombstone now belongs to (entity, id).
#[tokio::test]
async fn a_delete_under_another_entity_leaves_the_row_alone() {
    let (mut desks, mut relay) = pair().await;
    let dune = title_with_copies(&desks[0].store, "Dune", &["B1"]).await;
    sync_all(&mut desks, &mut relay).await;

    let ahead = shelfkeeper_sync::hlc::from_parts(chrono::Utc::now().timestamp_millis() as u64 + 60_000, 0);
    let hostile = Change {
        change_id: Uuid::now_v7(),
        entity: Entity::Member,
        entity_id: dune.id.0,
        op: shelfkeeper_sync::Op::Delete,
        hlc: ahead,
        site_id: Uuid::now_v7(),
        payload: serde_json::Value::Null,
    };
    relay.feed.push(Sequenced { server_seq: relay.feed.len() as u64 + 1, change: hostile });
    // Desk 1 edits the title before it hears of the delete: its stamp is
    // older than the delete's.
    desks[1].store.update_title(OWNER, dune.id, &edited("Dune", "edited at desk 1")).await.unwrap();
    sync_all(&mut desks, &mut relay).await;
    desks.push(desk().await);
    sync_all(&mut desks, &mut relay).await;

    assert_converged(&desks).await;
    for d in &desks {
        let t = d.store.title(dune.id).await.unwrap();
        assert_eq!(t.subtitle.as_deref(), Some("edited at desk 1"), "the edit applied everywhere");
        assert!(d.store.sync_conflicts().await.unwrap().iter().all(|c| c.kind != "kept_row"), "nothing kept aside");
    }
}

/// Issue 17: change_log.seq was reused once the log emptied, so a second
/// process's stale acknowledgement (the CLI syncing while the desktop is
/// open) deleted a change that was never pushed.
#[tokio::test]
async fn a_stale_acknowledgement_never_drops_a_newer_change() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("shared.sqlite3");
    let desktop = Store::create(&path, StoreMode::Library).await.unwrap();
    let cli = Store::open(&path).await.unwrap();
    title_with_copies(&desktop, "Dune", &["B1"]).await;

    // Both read the same page; the CLI pushes and acknowledges it first.
    let seen_by_desktop = desktop.outbox_page(0, 100).await.unwrap();
    let seen_by_cli = cli.outbox_page(0, 100).await.unwrap();
    cli.ack_pushed(seen_by_cli.through_seq).await.unwrap();
    assert_eq!(cli.sync_status().await.unwrap().pending_changes, 0);

    // A new change, then the desktop's acknowledgement of the old page.
    let emma = desktop.add_title(OWNER, &draft("Emma", "Jane Austen")).await.unwrap();
    desktop.ack_pushed(seen_by_desktop.through_seq).await.unwrap();
    let waiting = cli.outbox_page(0, 100).await.unwrap();
    assert!(waiting.changes.iter().any(|c| c.entity_id == emma.id.0), "the new change still waits to be sent: {waiting:?}");
    assert!(waiting.through_seq > seen_by_desktop.through_seq, "its number was never used before");
}

#[tokio::test]
async fn a_stamp_far_ahead_is_applied_but_flagged() {
    let (desks, _) = pair().await;
    let far = shelfkeeper_sync::hlc::from_parts(chrono::Utc::now().timestamp_millis() as u64 + 3_600_000, 0);
    let id = Uuid::now_v7();
    let change = Change {
        change_id: Uuid::now_v7(),
        entity: Entity::MemberType,
        entity_id: id,
        op: shelfkeeper_sync::Op::Upsert,
        hlc: far,
        site_id: Uuid::now_v7(),
        payload: serde_json::json!({"id": id.to_string(), "code": "night", "name": "Night owls", "loan_days": 7,
                                    "max_renewals": 0, "max_loans": 1, "hold_pickup_days": 1}),
    };
    let report = desks[0].store.apply_remote(&[Sequenced { server_seq: 1, change }], 1).await.unwrap();
    assert_eq!((report.applied, report.clock_ahead), (1, 1));
    assert!(desks[0].store.member_types().await.unwrap().iter().any(|t| t.code == "night"));
}

/// A generated library to a new desk: how long push and pull take.
/// `cargo test -p shelfkeeper-store --release --test it sync::a_generated -- --ignored --nocapture`
#[tokio::test]
#[ignore = "a measurement, not a check for every run"]
async fn a_generated_library_syncs_to_a_new_desk() {
    let titles: u64 = std::env::var("SK_SYNC_TITLES").ok().and_then(|s| s.parse().ok()).unwrap_or(5_000);
    let (mut desks, mut relay) = pair().await;
    let spec = shelfkeeper_store::GenerateSpec::scaled(titles);
    desks[0].store.generate(&spec, |_| {}, &std::sync::atomic::AtomicBool::new(false)).await.unwrap();
    let t = std::time::Instant::now();
    assert!(push(&desks[0], &mut relay, &mut Rng(1), NO_FAULTS, 1_000).await);
    let pushed = t.elapsed();
    let t = std::time::Instant::now();
    assert!(pull(&mut desks[1], &relay, &mut Rng(1), NO_FAULTS, 1_000).await);
    let pulled = t.elapsed();
    eprintln!("{} changes: outbox read {pushed:?}, applied {pulled:?}", relay.feed.len());
    sync_all(&mut desks, &mut relay).await;
    assert_converged(&desks).await;
}

// ------------------------------------------------------- simulation --

/// splitmix64: small, deterministic, good enough to drive a simulation.
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

/// What exists somewhere (desks act on what they may not have seen yet:
/// those commands fail as they would at a real desk).
#[derive(Default)]
struct World {
    titles: Vec<TitleId>,
    barcodes: Vec<(String, TitleId)>,
    copies: Vec<(CopyId, String)>,
    cards: Vec<String>,
    holds: Vec<HoldId>,
    n: usize,
    /// Desks sometimes claim the same barcode or card.
    shared_keys: bool,
}

/// A refusal of the rules is fine (the desk saw an error); a storage error is a bug.
fn allowed<T>(r: Result<T, Error>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e @ (Error::Storage(_) | Error::StoreBusy)) => panic!("storage error: {e}"),
        Err(_) => None,
    }
}

async fn random_op(d: &Desk, w: &mut World, rng: &mut Rng, me: usize) {
    let s = &d.store;
    w.n += 1;
    let n = w.n;
    match rng.below(19) {
        0 => {
            let mut t = draft(&format!("Title {n}"), "Author");
            t.subjects = vec![format!("subject{}", n % 5)];
            if let Some(t) = allowed(s.add_title(OWNER, &t).await) {
                w.titles.push(t.id);
            }
        }
        1 => {
            if let Some(id) = rng.pick(&w.titles).copied() {
                let mut t = edited(&format!("Title {n}"), &format!("edited at desk {me}"));
                t.subjects = vec![format!("subject{}", n % 7)];
                allowed(s.update_title(OWNER, id, &t).await);
            }
        }
        2 => {
            if let Some(id) = rng.pick(&w.titles).copied() {
                allowed(s.delete_title(OWNER, id).await);
            }
        }
        3 | 4 => {
            if let Some(title) = rng.pick(&w.titles).copied() {
                // Now and then a barcode another desk may claim too.
                let barcode = if w.shared_keys && rng.chance(20) { format!("S{}", n % 4) } else { format!("D{me}-{n}") };
                let draft = CopyDraft { barcode: barcode.clone(), location: Some(format!("Shelf {}", n % 3)), ..Default::default() };
                if let Some(c) = allowed(s.add_copy(OWNER, title, &draft).await) {
                    w.barcodes.push((barcode.clone(), title));
                    w.copies.push((c.id, barcode));
                }
            }
        }
        5 => {
            if let Some((id, barcode)) = rng.pick(&w.copies).cloned() {
                let draft = CopyDraft { barcode, shelf: Some(format!("moved at desk {me}, op {n}")), ..Default::default() };
                allowed(s.update_copy(OWNER, id, &draft).await);
            }
        }
        6 => {
            if rng.chance(30)
                && let Some((barcode, _)) = rng.pick(&w.barcodes).cloned()
            {
                allowed(s.delete_copy(OWNER, &barcode).await);
            }
        }
        7 => {
            let card = if w.shared_keys && rng.chance(20) { format!("MS{}", n % 3) } else { format!("M{me}-{n}") };
            let m = MemberDraft { card: card.clone(), name: format!("Member {n}"), member_type: "adult".into(), ..Default::default() };
            if allowed(s.add_member(OWNER, &m).await).is_some() {
                w.cards.push(card);
            }
        }
        8 | 9 => {
            if let (Some(card), Some((barcode, _))) = (rng.pick(&w.cards).cloned(), rng.pick(&w.barcodes).cloned()) {
                allowed(s.check_out(OWNER, &card, &barcode).await);
            }
        }
        10 => {
            if let Some((barcode, _)) = rng.pick(&w.barcodes).cloned() {
                allowed(s.check_in(OWNER, &barcode).await);
            }
        }
        11 => {
            if let Some((barcode, _)) = rng.pick(&w.barcodes).cloned() {
                if rng.chance(15) {
                    allowed(s.mark_lost(OWNER, &barcode).await);
                } else {
                    allowed(s.renew(OWNER, &barcode).await);
                }
            }
        }
        12 => {
            if let (Some(card), Some((_, title))) = (rng.pick(&w.cards).cloned(), rng.pick(&w.barcodes).cloned())
                && let Some(h) = allowed(s.place_hold(OWNER, &card, title).await)
            {
                w.holds.push(h.id);
            }
        }
        13 => {
            if let Some(h) = rng.pick(&w.holds).copied() {
                allowed(s.cancel_hold(OWNER, h).await);
            }
        }
        14 => {
            // Edits of members: blocks, renames, now and then a delete.
            if let Some(card) = rng.pick(&w.cards).cloned() {
                match rng.below(4) {
                    0 => {
                        allowed(s.set_member_blocked(OWNER, &card, Some(&format!("desk {me}"))).await);
                    }
                    1 => {
                        allowed(s.set_member_blocked(OWNER, &card, None).await);
                    }
                    2 => {
                        if let Some(m) = allowed(s.member(&card).await) {
                            let d = MemberDraft {
                                card: m.card,
                                name: format!("Renamed {n}"),
                                member_type: "adult".into(),
                                ..Default::default()
                            };
                            allowed(s.update_member(OWNER, m.id, &d).await);
                        }
                    }
                    _ => {
                        allowed(s.delete_member(OWNER, &card).await);
                    }
                }
            }
        }
        15 => {
            // The loan rules change at some desk.
            let mut t = shelfkeeper_domain::model::MemberType::defaults()[0].clone();
            t.loan_days = 7 + rng.below(30) as u32;
            allowed(s.save_member_type(OWNER, &t).await);
        }
        16 => {
            // Holds on the shelf past their pickup day expire.
            let later = chrono::Utc::now().date_naive() + chrono::Days::new(60);
            allowed(s.expire_holds(OWNER, later).await);
        }
        17 => {
            // Staff settle an open conflict they see here.
            let open: Vec<_> = s.sync_conflicts().await.unwrap().into_iter().filter(|c| c.resolved_at.is_none()).collect();
            if let Some(c) = rng.pick(&open) {
                let action = if c.kind == "kept_row" && rng.chance(50) { ConflictAction::Discarded } else { ConflictAction::Acknowledged };
                s.resolve_conflict(OWNER, &c.key, action, &format!("settled at desk {me} (op {n})")).await.unwrap();
            }
        }
        _ => {
            // Copies that come back after being lost, or check-ins of what is out.
            if let Some((barcode, _)) = rng.pick(&w.barcodes).cloned() {
                allowed(s.check_in(OWNER, &barcode).await);
            }
        }
    }
}

/// The sums over every seed, to prove the simulation exercises the rules.
#[derive(Default, Debug)]
struct Totals {
    events: i64,
    concurrent_pairs: i64,
    lent_twice: i64,
    kept_rows: i64,
    duplicate_keys: i64,
    resolutions: i64,
    /// Hostile changes no desk could apply (each quarantined on every desk).
    quarantined: i64,
}

/// Puts one hostile change at the end of the feed: a payload no desk can
/// apply, or a delete under another entity carrying a title's id and
/// stamped ahead. Returns true for the kind every desk must quarantine.
fn hostile_change(relay: &mut Relay, world: &World, rng: &mut Rng) -> bool {
    let ahead = shelfkeeper_sync::hlc::from_parts(chrono::Utc::now().timestamp_millis() as u64 + rng.below(120_000) as u64, 0);
    let id = Uuid::now_v7();
    let mut change = Change {
        change_id: Uuid::now_v7(),
        entity: Entity::Title,
        entity_id: id,
        op: shelfkeeper_sync::Op::Upsert,
        hlc: ahead,
        site_id: Uuid::now_v7(),
        payload: serde_json::json!({ "id": id.to_string(), "title": 42 }),
    };
    let unappliable = match (rng.below(3), world.titles.is_empty()) {
        (0, _) | (_, true) => true,
        (1, false) => {
            change.entity = Entity::Event;
            change.op = shelfkeeper_sync::Op::Event;
            change.payload = serde_json::json!({ "id": id.to_string(), "stream_id": id.to_string(), "kind": "x",
                                                 "title_id": world.titles[0].0.to_string(), "occurred_at": "2026-12-02T10:00:00Z" });
            true
        }
        _ => {
            change.entity = if rng.chance(50) { Entity::Member } else { Entity::Copy };
            change.entity_id = world.titles[rng.below(world.titles.len())].0;
            change.op = shelfkeeper_sync::Op::Delete;
            change.payload = serde_json::Value::Null;
            false
        }
    };
    relay.feed.push(Sequenced { server_seq: relay.feed.len() as u64 + 1, change });
    unappliable
}

async fn simulate(seed: u64, totals: &mut Totals) {
    let mut rng = Rng(seed);
    let desk_count = 3 + rng.below(2);
    let mut desks = Vec::new();
    for _ in 0..desk_count {
        desks.push(desk().await);
    }
    let mut relay = Relay::default();
    // Odd seeds (or all, with SK_SYNC_SHARED_KEYS) let desks claim the same barcodes and cards.
    let mut world = World { shared_keys: seed % 2 == 1 || std::env::var("SK_SYNC_SHARED_KEYS").is_ok(), ..World::default() };
    let mut online = vec![true; desk_count];
    let faults = Faults { lose_request: 10, lose_reply: 15, duplicate: 15 };
    // A shared start: a few titles, copies and members everyone knows.
    for _ in 0..6 {
        random_op(&desks[0], &mut world, &mut Rng(seed ^ 0xfeed), 0).await;
    }
    let t = desks[0].store.add_title(OWNER, &draft("Common", "Someone")).await.unwrap();
    world.titles.push(t.id);
    for (i, b) in ["C1", "C2"].iter().enumerate() {
        let c = desks[0].store.add_copy(OWNER, t.id, &CopyDraft { barcode: (*b).into(), ..Default::default() }).await.unwrap();
        world.barcodes.push(((*b).into(), t.id));
        world.copies.push((c.id, (*b).into()));
        let card = format!("MC{i}");
        member(&desks[0].store, &card, "Common member").await;
        world.cards.push(card);
    }
    sync_all(&mut desks, &mut relay).await;

    let steps = 80 + rng.below(80);
    for _ in 0..steps {
        let i = rng.below(desk_count);
        match rng.below(10) {
            0 => online[i] = !online[i],
            1 | 2 if online[i] => {
                let page = 1 + rng.below(20) as u32;
                match rng.below(3) {
                    0 => {
                        push(&desks[i], &mut relay, &mut rng, faults, page).await;
                    }
                    1 => {
                        pull(&mut desks[i], &relay, &mut rng, faults, page).await;
                    }
                    _ => {
                        // The store's own driver, over a faulty transport.
                        let shared = Mutex::new(std::mem::take(&mut relay));
                        let t = Faulty { relay: &shared, rng: Mutex::new(Rng(rng.next())), faults };
                        match desks[i].store.sync_once(&t, page).await {
                            Ok(_) | Err(SyncError::Transport(_)) => {}
                            Err(e) => panic!("sync failed: {e}"),
                        }
                        relay = shared.into_inner().unwrap();
                        let cursor = desks[i].store.sync_cursor().await.unwrap();
                        assert!(cursor >= desks[i].cursor, "cursors only move forward");
                        desks[i].cursor = cursor;
                        desks[i].last_page = None;
                    }
                }
            }
            3 if rng.chance(15) => {
                // A hostile change in the feed, as a compromised or older
                // server might serve it (the relay's door is bypassed).
                if hostile_change(&mut relay, &world, &mut rng) {
                    totals.quarantined += 1;
                }
            }
            _ => random_op(&desks[i], &mut world, &mut rng, i).await,
        }
    }
    sync_all(&mut desks, &mut relay).await;
    assert_converged(&desks).await;

    // Every change id once in the feed, every event once in the feed and
    // once on every desk.
    let ids: HashSet<Uuid> = relay.feed.iter().map(|s| s.change.change_id).collect();
    assert_eq!(ids.len(), relay.feed.len(), "the relay stored each change id once");
    // (Hostile events, quarantined everywhere, are not among them.)
    let events: Vec<Uuid> = relay
        .feed
        .iter()
        .filter(|s| s.change.entity == Entity::Event && s.change.check_shape().is_ok())
        .map(|s| s.change.entity_id)
        .collect();
    let distinct: HashSet<Uuid> = events.iter().copied().collect();
    assert_eq!(distinct.len(), events.len(), "every event was pushed exactly once");
    for d in &desks {
        let mut conn = db(&d.store).await;
        assert_eq!(scalar(&mut conn, "SELECT count(*) FROM circulation_events").await, events.len() as i64, "every event on every desk");
        assert_merged_invariants(&d.store).await;
        assert_eq!(d.store.sync_status().await.unwrap().pending_changes, 0);
    }
    let (pairs, lent_twice, _) = concurrent_pairs(&desks[0].store).await;
    let mut conn = db(&desks[0].store).await;
    totals.events += events.len() as i64;
    totals.concurrent_pairs += pairs;
    totals.lent_twice += lent_twice;
    totals.kept_rows += scalar(&mut conn, "SELECT count(*) FROM sync_conflicts WHERE kind = 'kept_row'").await;
    totals.duplicate_keys += scalar(&mut conn, "SELECT count(*) FROM sync_conflicts WHERE kind = 'duplicate_key'").await;
    totals.resolutions += scalar(&mut conn, "SELECT count(*) FROM conflict_resolutions").await;
    // Each hostile change no desk could apply was quarantined (not lost,
    // not applied) on every desk; staff may have acknowledged some.
    let hostile = relay.feed.iter().filter(|s| s.change.check_shape().is_err()).count() as i64;
    for d in &desks {
        let mut conn = db(&d.store).await;
        assert_eq!(scalar(&mut conn, "SELECT count(*) FROM sync_conflicts WHERE kind = 'quarantined'").await, hostile);
    }
    // Everyone keeps working after the merge, and converges again.
    for (i, d) in desks.iter().enumerate() {
        for _ in 0..5 {
            random_op(d, &mut world, &mut rng, i).await;
        }
    }
    sync_all(&mut desks, &mut relay).await;
    assert_converged(&desks).await;
}

#[tokio::test]
async fn simulation_of_desks_that_sync_through_a_relay_converges() {
    let seeds: u64 = std::env::var("SK_SYNC_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(12);
    let only: Option<u64> = std::env::var("SK_SYNC_SEED").ok().and_then(|s| s.parse().ok());
    let mut totals = Totals::default();
    for seed in 0..seeds {
        if only.is_some_and(|o| o != seed) {
            continue;
        }
        simulate(seed, &mut totals).await;
    }
    eprintln!("sync simulation over {seeds} seeds: {totals:?}");
    if only.is_none() && seeds >= 6 {
        assert!(totals.events > 0 && totals.concurrent_pairs > 0 && totals.lent_twice > 0 && totals.resolutions > 0, "{totals:?}");
    }
}
