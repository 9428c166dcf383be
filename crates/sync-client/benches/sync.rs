//! Sync figures through the real server on loopback (in process, on port
//! 0, over a SQLite file; PostgreSQL with `SK_BENCH_PG=postgres://…`), two
//! desk stores on disk, the HTTP transport the desktop uses:
//!
//! 1. initial sync: desk A holds a generated library and pushes it all;
//!    the server's feed is pulled alone (not applied) for the wire's share;
//!    then an empty desk B syncs, loading the library's snapshot (rows/s);
//! 2. change latency: A edits one title and syncs, B syncs and reads it
//!    (p50/p95 over many rounds; the background schedule adds its own wait
//!    on top, see BENCHMARKS.md);
//! 3. live change latency, as the desktop runs: A sends when a local write
//!    leaves changes (after the desktop's debounce), B waits on the
//!    server's long poll and syncs when it answers; from A's write to the
//!    title readable at B (p50/p95);
//! 4. an idle round (nothing to send or receive) on a small and on the
//!    large library: it should not grow with the library.
//!
//! `cargo bench -p shelfkeeper-sync-client --bench sync` (SK_BENCH_TITLES,
//! default 100000; SK_BENCH_ROUNDS, default 200).

use shelfkeeper_domain::access::Actor;
use shelfkeeper_domain::model::{StoreMode, TitleDraft};
use shelfkeeper_store::{GenerateSpec, Store};
use shelfkeeper_sync_client::api::ServerApi;
use shelfkeeper_sync_client::{Credential, HttpTransport, Options};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

const EMAIL: &str = "bench@example.org";
const PASSWORD: &str = "correct horse battery";

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

struct Library {
    server: String,
    id: uuid::Uuid,
    token: String,
}

async fn start_server(dir: &std::path::Path) -> (String, shelfkeeper_server::AppState) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let database_url = std::env::var("SK_BENCH_PG").unwrap_or_else(|_| format!("sqlite://{}", dir.join("server.sqlite3").display()));
    let cfg = shelfkeeper_server::Config {
        database_url,
        data_dir: Some(dir.to_path_buf()),
        token_secret: "bench-secret-bench-secret-bench-secret-0".into(),
        hash_workers: 1,
        listen: addr,
        public_url: format!("http://{addr}"),
        // The initial push of a large library outlasts a 15-minute token
        // now that the server applies every change it takes.
        access_token_ttl_secs: 4 * 3600,
        ..shelfkeeper_server::Config::default()
    };
    let state = shelfkeeper_server::AppState::new(cfg).await.unwrap();
    let hash = shelfkeeper_domain::password::hash(PASSWORD).unwrap();
    let account = uuid::Uuid::now_v7().to_string();
    state.db.insert_account(&account, EMAIL, "Bench", &hash).await.unwrap();
    state.db.mark_email_verified(&account).await.unwrap();
    tokio::spawn(shelfkeeper_server::serve(listener, state.clone(), std::future::pending()));
    (format!("http://{addr}"), state)
}

async fn new_library(server: &str, state: &shelfkeeper_server::AppState, name: &str) -> Library {
    let account = state.db.account_by_email(EMAIL).await.unwrap().unwrap();
    let id = uuid::Uuid::now_v7();
    state.db.create_library(&id.to_string(), name, &account.id).await.unwrap();
    let api = ServerApi::new(server, &Options::default()).unwrap();
    let tokens = api.login(EMAIL, PASSWORD).await.unwrap();
    Library { server: server.to_owned(), id, token: tokens.access_token }
}

async fn desk(dir: &std::path::Path, name: &str, lib: &Library) -> (Store, HttpTransport) {
    let store = Store::create(&dir.join(name), StoreMode::Collection).await.unwrap();
    let t = HttpTransport::new(&lib.server, lib.id, Credential::Bearer(lib.token.clone()), Options::default()).unwrap();
    t.register_device(store.site_id().0, name).await.unwrap();
    let site = store.site_id().0;
    (store, t.with_site(site))
}

async fn idle_rounds(store: &Store, t: &HttpTransport, rounds: u64) -> Vec<Duration> {
    let mut times = Vec::new();
    for _ in 0..rounds {
        let t0 = Instant::now();
        let run = store.sync_once(t, 500).await.unwrap();
        times.push(t0.elapsed());
        assert_eq!((run.pushed, run.pulled), (0, 0));
    }
    times.sort();
    times
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let titles = env_u64("SK_BENCH_TITLES", 100_000);
    let rounds = env_u64("SK_BENCH_ROUNDS", 200);
    let dir = tempfile::tempdir().unwrap();
    let (server, state) = start_server(dir.path()).await;
    let backend = if std::env::var("SK_BENCH_PG").is_ok() { "PostgreSQL" } else { "SQLite" };
    println!("server backend: {backend}; library: {titles} titles, {} copies", titles * 2);

    // An idle round on a small library first.
    let small = new_library(&server, &state, "Small").await;
    let (sa, sta) = desk(dir.path(), "small-a.sqlite3", &small).await;
    let (sb, stb) = desk(dir.path(), "small-b.sqlite3", &small).await;
    let spec = GenerateSpec { titles: 1_000, copies: 2_000, members: 40, past_loans: 500, open_loans: 50, seed: 7 };
    sa.generate(&spec, |_| {}, &AtomicBool::new(false)).await.unwrap();
    sa.sync_once(&sta, 500).await.unwrap();
    sb.sync_once(&stb, 500).await.unwrap();
    let idle_small = idle_rounds(&sb, &stb, rounds).await;

    // Initial sync of the large library.
    let large = new_library(&server, &state, "Large").await;
    let (a, ta) = desk(dir.path(), "large-a.sqlite3", &large).await;
    let spec = GenerateSpec {
        titles,
        copies: titles * 2,
        members: (titles / 25).max(10),
        past_loans: titles / 2,
        open_loans: titles / 20,
        seed: 42,
    };
    let t0 = Instant::now();
    a.generate(&spec, |_| {}, &AtomicBool::new(false)).await.unwrap();
    println!("generated desk A in {:.1} s", t0.elapsed().as_secs_f64());
    let t0 = Instant::now();
    let pushed = a.sync_once(&ta, 500).await.unwrap();
    let push_s = t0.elapsed().as_secs_f64();
    println!("initial push (A → server): {} changes in {push_s:.1} s = {:.0} changes/s", pushed.pushed, pushed.pushed as f64 / push_s);
    let (b, tb) = desk(dir.path(), "large-b.sqlite3", &large).await;
    // The server's and the wire's share: every page pulled, nothing applied.
    let t0 = Instant::now();
    let (mut after, mut fetched) = (0, 0usize);
    loop {
        let req = shelfkeeper_sync::PullRequest { protocol: shelfkeeper_sync::PROTOCOL_VERSION, after, limit: 500 };
        let page = tb.pull_page(&req).await.unwrap();
        fetched += page.changes.len();
        after = page.cursor_after(&req);
        if !page.more || page.changes.is_empty() {
            break;
        }
    }
    let fetch_s = t0.elapsed().as_secs_f64();
    println!("pulling alone (server → desk, not applied): {fetched} changes in {fetch_s:.1} s = {:.0} rows/s", fetched as f64 / fetch_s);
    let t0 = Instant::now();
    let pulled = b.sync_once(&tb, 500).await.unwrap();
    let pull_s = t0.elapsed().as_secs_f64();
    println!(
        "initial sync to an empty desk (server → B: the snapshot, loaded): {} changes in {pull_s:.1} s = {:.0} rows/s",
        pulled.pulled,
        pulled.pulled as f64 / pull_s
    );
    // A takes B's versions of the seeded member types (same ids, LWW by site).
    a.sync_once(&ta, 500).await.unwrap();
    let (da, db) = (a.sync_dump().await.unwrap(), b.sync_dump().await.unwrap());
    match da.lines().zip(db.lines()).enumerate().find(|(_, (x, y))| x != y) {
        None if da.len() == db.len() => println!("A and B hold the same library (canonical dumps equal)"),
        None => println!("DIFFERENT: one dump is longer ({} vs {} bytes)", da.len(), db.len()),
        Some((i, (x, y))) => {
            let section = da.lines().take(i + 1).filter(|l| l.starts_with("## ")).last().unwrap_or("");
            println!("DIFFERENT at line {i} in {section}:\n  A: {:.300}\n  B: {:.300}", x, y);
        }
    }

    // Change latency: A catalogues a title and syncs, B syncs and reads it.
    let mut lat = Vec::new();
    for i in 0..rounds {
        let draft = TitleDraft { title: format!("Latency probe {i}"), ..TitleDraft::default() };
        let t0 = Instant::now();
        let added = a.add_title(&Actor::OWNER, &draft).await.unwrap();
        a.sync_once(&ta, 500).await.unwrap();
        b.sync_once(&tb, 500).await.unwrap();
        let seen = b.title(added.id).await.unwrap();
        lat.push(t0.elapsed());
        assert_eq!(seen.title, draft.title);
    }
    lat.sort();
    println!(
        "one new title A → B (write, A syncs, B syncs, B reads), {} rounds: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        lat.len(),
        pct(&lat, 0.5),
        pct(&lat, 0.95),
        pct(&lat, 1.0)
    );

    // Live: the desktop's own loops (local writes → send; long poll → sync).
    let a_loop = tokio::spawn({
        let (a, ta) = (a.clone(), ta.clone());
        async move {
            loop {
                shelfkeeper_sync_client::desk::local_changes(&a).await;
                a.sync_once(&ta, 500).await.unwrap();
            }
        }
    });
    let b_loop = tokio::spawn({
        let (b, tb) = (b.clone(), tb.clone());
        async move {
            loop {
                let after = b.sync_cursor().await.unwrap();
                if tb.wait_for_changes(after, shelfkeeper_sync_client::desk::LONG_POLL).await.unwrap() {
                    b.sync_once(&tb, 500).await.unwrap();
                }
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut live = Vec::new();
    for i in 0..rounds {
        let draft = TitleDraft { title: format!("Live probe {i}"), ..TitleDraft::default() };
        let t0 = Instant::now();
        let added = a.add_title(&Actor::OWNER, &draft).await.unwrap();
        // B's reads every 2 ms: the figure is at most 2 ms late.
        while b.title(added.id).await.is_err() {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        live.push(t0.elapsed());
        // Apart from the next write: a burst would be sent in one go.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a_loop.abort();
    b_loop.abort();
    live.sort();
    println!(
        "one new title A → B live (A sends {} ms after its last write, B's long poll answers, B syncs), {} rounds: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        shelfkeeper_sync_client::desk::PUSH_DEBOUNCE.as_millis(),
        live.len(),
        pct(&live, 0.5),
        pct(&live, 0.95),
        pct(&live, 1.0)
    );

    let idle_large = idle_rounds(&b, &tb, rounds).await;
    println!(
        "idle round (nothing new): 3,090-row library p50 {:.2} ms, p95 {:.2} ms; {}-row library p50 {:.2} ms, p95 {:.2} ms",
        pct(&idle_small, 0.5),
        pct(&idle_small, 0.95),
        pulled.pulled,
        pct(&idle_large, 0.5),
        pct(&idle_large, 0.95)
    );
}
