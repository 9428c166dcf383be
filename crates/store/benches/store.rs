//! Store benchmark: generation rate, open time, size, search and desk
//! latency on a large generated collection. Prints a Markdown report.
//!
//!   cargo bench -p shelfkeeper-store --bench store -- [--titles 500000] [--store PATH] [--iterations 300]
//!
//! The store is generated on first run (1,000,000 copies for 500,000
//! titles) and reused afterwards; delete it to measure generation again.

use shelfkeeper_domain::access::Actor;
use shelfkeeper_domain::model::StoreMode;
use shelfkeeper_domain::search::{Filters, SearchRequest, SortOrder};
use shelfkeeper_store::{GenerateSpec, Store};
use sqlx::Connection;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

struct Opts {
    titles: u64,
    store: PathBuf,
    iterations: usize,
}

fn opts() -> Opts {
    let mut o = Opts { titles: 500_000, store: PathBuf::new(), iterations: 300 };
    let mut store = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--titles" => o.titles = args.next().and_then(|v| v.parse().ok()).expect("--titles N"),
            "--store" => store = args.next().map(PathBuf::from),
            "--iterations" => o.iterations = args.next().and_then(|v| v.parse().ok()).expect("--iterations N"),
            _ => {} // cargo passes --bench
        }
    }
    o.store = store.unwrap_or_else(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench-data");
        root.join(format!("bench-{}.sqlite3", o.titles))
    });
    o
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

struct Row {
    name: String,
    samples: Vec<Duration>,
    note: String,
}

impl Row {
    fn line(&mut self) -> String {
        self.samples.sort();
        let s = &self.samples;
        format!("| {} | {} | {:.3} | {:.3} | {:.3} | {} |", self.name, s.len(), pct(s, 0.50), pct(s, 0.95), pct(s, 0.99), self.note)
    }
}

async fn time_searches(store: &Store, name: &str, req: SearchRequest, iterations: usize) -> Row {
    for _ in 0..10 {
        store.search(&req).await.unwrap();
    }
    let mut samples = Vec::with_capacity(iterations);
    let mut note = String::new();
    for _ in 0..iterations {
        let t = Instant::now();
        let page = store.search(&req).await.unwrap();
        samples.push(t.elapsed());
        note = format!("{} hits on page, total {}{}", page.hits.len(), page.total.value, if page.total.exact { "" } else { "+" });
    }
    Row { name: name.into(), samples, note }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<u64>().ok()))
        .map(|kb| kb / 1024 / 1024)
        .unwrap_or(0);
    format!("{cpu}, {cores} cores, {mem} GiB RAM")
}

#[tokio::main]
async fn main() {
    let o = opts();
    println!("# Shelfkeeper store benchmark\n\nMachine: {}\nStore: {}\n", machine(), o.store.display());
    if !o.store.exists() {
        let store = Store::create(&o.store, StoreMode::Library).await.unwrap();
        let spec = GenerateSpec::scaled(o.titles);
        let report = store.generate(&spec, |p| eprint!("\r{} {}/{}   ", p.phase, p.done, p.total), &AtomicBool::new(false)).await.unwrap();
        eprintln!();
        println!(
            "Generation: {} titles, {} copies, {} members, {} loans, {} events in {:.1} s = **{:.0} titles/s**, {:.0} rows/s (every row with FTS, indexes and change log)\n",
            report.titles,
            report.copies,
            report.members,
            report.loans,
            report.events,
            report.seconds,
            report.titles_per_second,
            report.rows_per_second
        );
        store.close().await;
    }

    let mut opens = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let s = Store::open(&o.store).await.unwrap();
        opens.push(t.elapsed());
        s.close().await;
    }
    opens.sort();
    let store = Store::open(&o.store).await.unwrap();
    let stats = store.stats_in_full().await.unwrap();
    println!(
        "Collection: {} titles, {} copies, {} members, {} loans ever ({} open), {} events\n\nStore size on disk: {:.0} MiB\nOpen (migrations checked, pools ready): p50 {:.1} ms, max {:.1} ms\n",
        stats.titles,
        stats.copies,
        stats.members,
        stats.loans_ever.unwrap_or_default(),
        stats.open_loans,
        stats.events.unwrap_or_default(),
        stats.file_bytes as f64 / 1048576.0,
        pct(&opens, 0.5),
        opens.last().unwrap().as_secs_f64() * 1000.0
    );

    // Pick query terms from the data itself.
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=ro", o.store.display())).await.unwrap();
    let count = async |conn: &mut sqlx::SqliteConnection, q: &str| -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM title_fts WHERE title_fts MATCH ?").bind(q).fetch_one(conn).await.unwrap()
    };
    let common_share = count(&mut conn, "\"the\"").await as f64 / stats.titles as f64;
    let rare: String = {
        let candidates: Vec<String> =
            sqlx::query_scalar("SELECT title FROM titles WHERE seq % 997 = 0 LIMIT 200").fetch_all(&mut conn).await.unwrap();
        let mut pick = None;
        for t in candidates {
            for w in t.split_whitespace() {
                let w = w.to_lowercase();
                let n = count(&mut conn, &format!("\"{w}\"")).await;
                if (1..=20).contains(&n) {
                    pick = Some(w);
                    break;
                }
            }
            if pick.is_some() {
                break;
            }
        }
        pick.expect("a rare word")
    };
    let rare_n = count(&mut conn, &format!("\"{rare}\"")).await;
    let isbns: Vec<String> =
        sqlx::query_scalar("SELECT isbn13 FROM titles WHERE seq % 1009 = 0 LIMIT 50").fetch_all(&mut conn).await.unwrap();

    let n = o.iterations;
    let mut rows = vec![
        time_searches(
            &store,
            &format!("rare word '{rare}' ({rare_n} titles)"),
            SearchRequest { text: rare.clone(), ..Default::default() },
            n,
        )
        .await,
        time_searches(
            &store,
            &format!("common word 'the' ({:.0}% of titles)", common_share * 100.0),
            SearchRequest { text: "the".into(), ..Default::default() },
            n,
        )
        .await,
        time_searches(&store, "prefix 'hist' (as typed)", SearchRequest { text: "hist".into(), ..Default::default() }, n).await,
        time_searches(
            &store,
            "two words + filter 'war history', language en, available",
            SearchRequest {
                text: "war history".into(),
                filters: Filters { language: Some("en".into()), available: true, ..Default::default() },
                ..Default::default()
            },
            n,
        )
        .await,
        time_searches(
            &store,
            "common word sorted by title",
            SearchRequest { text: "the".into(), sort: SortOrder::Title, ..Default::default() },
            n,
        )
        .await,
        time_searches(&store, "browse all, newest first", SearchRequest::default(), n).await,
    ];
    // ISBNs: a different one each time.
    let mut samples = Vec::new();
    for i in 0..n {
        let req = SearchRequest { text: isbns[i % isbns.len()].clone(), ..Default::default() };
        let t = Instant::now();
        let page = store.search(&req).await.unwrap();
        samples.push(t.elapsed());
        assert_eq!(page.hits.len(), 1);
    }
    rows.push(Row { name: "ISBN (a different one each time)".into(), samples, note: "1 hit".into() });
    // Second page of a common word (keyset).
    let first = store.search(&SearchRequest { text: "the".into(), ..Default::default() }).await.unwrap();
    rows.push(
        time_searches(
            &store,
            "common word, page 2 (cursor)",
            SearchRequest { text: "the".into(), cursor: first.next_cursor, ..Default::default() },
            n,
        )
        .await,
    );
    // Facets.
    let mut samples = Vec::new();
    for _ in 0..(n / 5).max(20) {
        let t = Instant::now();
        store.facets(&SearchRequest { text: "the".into(), ..Default::default() }).await.unwrap();
        samples.push(t.elapsed());
    }
    rows.push(Row { name: "facets for 'the' (1,000-match sample)".into(), samples, note: String::new() });

    println!("## Search (ms)\n\n| query | runs | p50 | p95 | p99 | result |\n|---|---|---|---|---|---|");
    for r in &mut rows {
        println!("{}", r.line());
    }

    // The desk: check-outs and check-ins of random copies to random members.
    let me = &Actor::OWNER;
    let copies: Vec<String> = sqlx::query_scalar("SELECT barcode FROM copies WHERE status = 'available' ORDER BY random() LIMIT ?")
        .bind(n as i64)
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let members: Vec<String> = sqlx::query_scalar(
        "SELECT card FROM members m WHERE member_type <> 'child'
           AND (SELECT count(*) FROM loans l WHERE l.member_id = m.id AND l.returned_at IS NULL) < 5 ORDER BY random() LIMIT ?",
    )
    .bind(n as i64)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut outs = Vec::new();
    let mut renews = Vec::new();
    let mut ins = Vec::new();
    for (i, barcode) in copies.iter().enumerate() {
        let card = &members[i % members.len()];
        let t = Instant::now();
        store.check_out(me, card, barcode).await.unwrap();
        outs.push(t.elapsed());
    }
    for barcode in copies.iter().take(n / 3) {
        let t = Instant::now();
        let _ = store.renew(me, barcode).await;
        renews.push(t.elapsed());
    }
    for barcode in &copies {
        let t = Instant::now();
        store.check_in(me, barcode).await.unwrap();
        ins.push(t.elapsed());
    }
    println!(
        "\n## Circulation desk (ms, each one transaction committed to disk)\n\n| operation | runs | p50 | p95 | p99 | |\n|---|---|---|---|---|---|"
    );
    for (name, samples) in [("check out", outs), ("renew", renews), ("check in", ins)] {
        println!("{}", Row { name: name.into(), samples, note: String::new() }.line());
    }
    store.close().await;
}
