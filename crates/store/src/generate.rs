//! Synthetic collections for benchmarks and demos: titles with realistic
//! word frequencies (a few words in a third of all titles, a long tail of
//! rare ones), copies, members, and years of loan history.
//!
//! Everything goes through the same schema, triggers and change log as the
//! desk; rows are written with multi-row INSERTs in transactions of a few
//! thousand titles, so progress is reported and the work can be cancelled
//! between batches (what was committed stays, consistent).

use crate::bulk::Batch;
use crate::{Store, db_err};
use chrono::{DateTime, Days, Duration, NaiveDate, Utc};
use serde::Serialize;
use shelfkeeper_domain::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GenerateSpec {
    pub titles: u64,
    pub copies: u64,
    pub members: u64,
    /// Loans already returned.
    pub past_loans: u64,
    /// Loans still out (some overdue).
    pub open_loans: u64,
    pub seed: u64,
}

impl GenerateSpec {
    /// The benchmark collection of the foundation issue, scaled by `titles`.
    pub fn scaled(titles: u64) -> Self {
        GenerateSpec {
            titles,
            copies: titles * 2,
            members: (titles / 25).max(10),
            past_loans: titles * 4,
            open_loans: titles / 10,
            seed: 42,
        }
    }
}

/// Where a long job is: shown as a progress bar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub phase: &'static str,
    pub done: u64,
    pub total: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GenerateReport {
    pub titles: u64,
    pub copies: u64,
    pub members: u64,
    pub loans: u64,
    pub events: u64,
    pub seconds: f64,
    pub titles_per_second: f64,
    pub rows_per_second: f64,
}

/// Small, fast, seedable PRNG (SplitMix64): reproducible collections.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    /// Zipf-like rank in 0..n: small ranks far more likely.
    fn zipf(&mut self, n: usize) -> usize {
        let u = ((self.next() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        ((n as f64).powf(u) - 1.0) as usize % n
    }
}

const HEAD_WORDS: &[&str] = &[
    "history",
    "world",
    "life",
    "war",
    "love",
    "new",
    "art",
    "guide",
    "science",
    "story",
    "time",
    "house",
    "city",
    "night",
    "man",
    "woman",
    "children",
    "book",
    "garden",
    "music",
    "water",
    "light",
    "secret",
    "journey",
    "king",
    "queen",
    "sea",
    "river",
    "mountain",
    "dark",
    "little",
    "great",
    "last",
    "first",
    "old",
    "black",
    "white",
    "red",
    "green",
    "blue",
    "death",
    "dream",
    "road",
    "home",
    "family",
    "mind",
    "power",
    "empire",
    "island",
    "stars",
    "winter",
    "summer",
    "spring",
    "autumn",
    "fire",
    "stone",
    "shadow",
    "silver",
    "golden",
    "lost",
    "hidden",
    "modern",
    "ancient",
    "introduction",
    "handbook",
    "cooking",
    "philosophy",
    "poems",
    "letters",
    "travels",
    "murder",
    "mystery",
    "economics",
    "politics",
    "religion",
    "nature",
    "animals",
    "birds",
    "forest",
    "ocean",
    "desert",
    "machine",
    "computer",
    "language",
    "mathematics",
    "physics",
    "chemistry",
    "biology",
    "medicine",
    "law",
    "france",
    "england",
    "america",
    "china",
    "india",
];
const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ra", "ten", "vor", "sel", "an", "tri", "po", "zu", "mer", "dal", "qui", "nor", "bel", "har", "ost", "lin", "ve",
    "du", "gra", "fen", "ith", "or", "sa", "mo", "ric", "tal", "ben",
];
const FIRST: &[&str] = &[
    "Ada", "Alan", "Grace", "Ursula", "Frank", "Octavia", "Isaac", "Mary", "Jules", "Jane", "Leo", "Anna", "Marcel", "Virginia", "James",
    "Toni", "Gabriel", "Chinua", "Haruki", "Elena", "Italo", "Jorge", "Clarice", "Wislawa", "Naguib", "Selma", "Astrid", "Tove", "Halldor",
    "Orhan", "Kazuo", "Zadie", "Hilary", "Colson", "Ted", "Sally", "Terry", "Neil", "Iain", "Lois",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Turing",
    "Hopper",
    "Le Guin",
    "Herbert",
    "Butler",
    "Asimov",
    "Shelley",
    "Verne",
    "Austen",
    "Tolstoy",
    "Karenina",
    "Proust",
    "Woolf",
    "Joyce",
    "Morrison",
    "Marquez",
    "Achebe",
    "Murakami",
    "Ferrante",
    "Calvino",
    "Borges",
    "Lispector",
    "Szymborska",
    "Mahfouz",
    "Lagerlof",
    "Lindgren",
    "Jansson",
    "Laxness",
    "Pamuk",
    "Ishiguro",
    "Smith",
    "Mantel",
    "Whitehead",
    "Chiang",
    "Rooney",
    "Pratchett",
    "Gaiman",
    "Banks",
    "Bujold",
    "Okafor",
    "Jemisin",
    "Liu",
    "Tchaikovsky",
    "Wells",
    "Clarke",
    "Dick",
    "Atwood",
];
const SUBJECTS: &[&str] = &[
    "Fiction",
    "Science fiction",
    "Fantasy",
    "Mystery",
    "History",
    "Biography",
    "Poetry",
    "Drama",
    "Philosophy",
    "Religion",
    "Science",
    "Mathematics",
    "Computers",
    "Medicine",
    "Cooking",
    "Gardening",
    "Travel",
    "Art",
    "Music",
    "Children's books",
    "Young adult",
    "Economics",
    "Politics",
    "Law",
    "Education",
    "Sports",
    "Nature",
    "Animals",
    "Psychology",
    "Sociology",
    "Languages",
    "Reference",
];
const TAGS: &[&str] =
    &["favourite", "signed", "first edition", "to read", "gift", "book club", "classic", "award winner", "illustrated", "large print"];
const LANGUAGES: &[(&str, f64)] = &[("en", 0.7), ("fr", 0.08), ("de", 0.07), ("es", 0.06), ("it", 0.04), ("nl", 0.03), ("ja", 0.02)];
const LOCATIONS: &[&str] = &["Main", "North Branch", "South Branch", "Stack"];
const PUBLISHERS: &[&str] = &["Penguin", "Gollancz", "Ace", "Vintage", "Faber", "Picador", "Tor", "Orbit", "Gallimard", "Suhrkamp"];

fn tail_word(rank: usize) -> String {
    // Deterministic pronounceable word for a vocabulary rank.
    let mut r = rank;
    let mut w = String::new();
    for _ in 0..3 {
        w.push_str(SYLLABLES[r % SYLLABLES.len()]);
        r /= SYLLABLES.len();
    }
    w
}

fn word(rng: &mut Rng) -> String {
    // Vocabulary: the head words (real, frequent), then 27,000 tail words.
    let rank = rng.zipf(HEAD_WORDS.len() + 27_000);
    if rank < HEAD_WORDS.len() { HEAD_WORDS[rank].to_string() } else { tail_word(rank - HEAD_WORDS.len()) }
}

fn capitalise(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn isbn13_for(n: u64) -> String {
    let body = format!("978{:09}", n % 1_000_000_000);
    let sum: u32 = body.chars().enumerate().map(|(i, c)| c.to_digit(10).unwrap_or(0) * if i % 2 == 0 { 1 } else { 3 }).sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

const TITLE_COLS: &[&str] = &[
    "id",
    "title",
    "subtitle",
    "sort_title",
    "contributors",
    "author_sort",
    "subjects",
    "tags",
    "series",
    "series_number",
    "language",
    "publisher",
    "published",
    "pub_year",
    "pages",
    "isbn13",
    "notes",
    "created_at",
    "updated_at",
    "hlc",
    "site_no",
];
const COPY_COLS: &[&str] = &[
    "id",
    "title_id",
    "barcode",
    "location",
    "shelf",
    "acquired_on",
    "price_cents",
    "currency",
    "created_at",
    "updated_at",
    "status",
    "last_event_id",
    "hlc",
    "site_no",
];
const MEMBER_COLS: &[&str] =
    &["id", "card", "name", "sort_name", "email", "member_type", "expires_on", "created_at", "updated_at", "hlc", "site_no"];
const EVENT_COLS: &[&str] =
    &["id", "stream_id", "kind", "title_id", "copy_id", "member_id", "due_on", "prev_event_id", "occurred_at", "hlc", "site_no"];
const LOAN_COLS: &[&str] = &["id", "copy_id", "title_id", "member_id", "out_at", "due_on", "renewals", "returned_at"];

const TITLES_PER_TX: u64 = 20_000;

/// (out, due, returned, member) of one generated loan.
type PastLoan = (DateTime<Utc>, NaiveDate, Option<DateTime<Utc>>, Uuid);

fn ts(t: DateTime<Utc>) -> String {
    crate::rows::ts(t)
}

impl Store {
    /// Fills the store with a synthetic collection. Refuses a store that
    /// already has titles (generated data must not mix with real data).
    pub async fn generate(&self, spec: &GenerateSpec, mut progress: impl FnMut(Progress), cancel: &AtomicBool) -> Result<GenerateReport> {
        let started = Instant::now();
        let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM titles").fetch_one(&self.read).await.map_err(db_err)?;
        if existing > 0 {
            return Err(Error::invalid("store", "already has titles; generate into a new store"));
        }
        let mut rng = Rng(spec.seed);
        let now = Utc::now();
        let today = now.date_naive();

        // Members first: loans refer to them.
        let mut member_ids: Vec<Uuid> = Vec::with_capacity(spec.members as usize);
        let mut w = self.write_tx().await?;
        let marks = w.begin_bulk().await?;
        let mut members = Batch::new("members", MEMBER_COLS);
        let created = ts(now);
        for i in 0..spec.members {
            let id = Uuid::now_v7();
            member_ids.push(id);
            let name = format!("{} {}", rng.pick(FIRST), rng.pick(LAST));
            let kind = match rng.below(20) {
                0 => "staff",
                1..=3 => "child",
                _ => "adult",
            };
            members.push(id);
            members.push(format!("M{i:06}"));
            members.push(name.clone());
            members.push(shelfkeeper_domain::text::person_sort_key(&name));
            members.push(format!("member{i}@example.org"));
            members.push(kind);
            members.push(crate::rows::date(today + Days::new(30 + rng.below(900))));
            members.push(created.clone());
            members.push(created.clone());
            members.push(w.stamp().0);
            members.push(w.stamp().1);
            members.end_row(&mut w).await?;
        }
        members.flush(&mut w).await?;
        w.end_bulk(marks).await?;
        w.commit().await?;
        progress(Progress { phase: "members", done: spec.members, total: spec.members });

        let mut titles = Batch::new("titles", TITLE_COLS);
        let mut copies = Batch::new("copies", COPY_COLS);
        let mut events = Batch::new("circulation_events", EVENT_COLS);
        let mut loans = Batch::new("loans", LOAN_COLS);
        let mut copy_no: u64 = 0;
        let mut past_left = spec.past_loans;
        let mut open_left = spec.open_loans;
        let mut done: u64 = 0;
        while done < spec.titles {
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            let mut w = self.write_tx().await?;
            let marks = w.begin_bulk().await?;
            let end = (done + TITLES_PER_TX).min(spec.titles);
            for i in done..end {
                let title_id = Uuid::now_v7();
                let n_words = 1 + rng.below(6) as usize;
                let mut words: Vec<String> = (0..n_words).map(|_| word(&mut rng)).collect();
                if rng.chance(0.35) {
                    words.insert(0, "the".into());
                }
                let title = words.iter().map(|w| capitalise(w)).collect::<Vec<_>>().join(" ");
                let subtitle = rng.chance(0.2).then(|| format!("A {} of {}", word(&mut rng), word(&mut rng)));
                let n_authors = 1 + usize::from(rng.chance(0.15));
                let authors: Vec<String> = (0..n_authors).map(|_| format!("{} {}", rng.pick(FIRST), rng.pick(LAST))).collect();
                let contributors =
                    serde_json::json!(authors.iter().map(|a| serde_json::json!({"name": a, "role": "author"})).collect::<Vec<_>>());
                let subjects: Vec<&str> =
                    (0..1 + rng.below(2)).map(|_| *rng.pick(SUBJECTS)).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
                let tags: Vec<&str> = if rng.chance(0.3) { vec![*rng.pick(TAGS)] } else { vec![] };
                let year = 2026 - rng.zipf(200) as i64;
                let lang = {
                    let mut x = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
                    LANGUAGES
                        .iter()
                        .find(|(_, p)| {
                            x -= p;
                            x < 0.0
                        })
                        .map(|(l, _)| *l)
                        .unwrap_or("en")
                };
                let notes = rng.chance(0.3).then(|| (0..8 + rng.below(12)).map(|_| word(&mut rng)).collect::<Vec<_>>().join(" "));
                let series = rng.chance(0.1).then(|| format!("The {} Cycle", capitalise(&word(&mut rng))));
                titles.push(title_id);
                titles.push(title.clone());
                titles.push(subtitle);
                titles.push(shelfkeeper_domain::text::sort_key(&title));
                titles.push(contributors.to_string());
                titles.push(shelfkeeper_domain::text::person_sort_key(&authors[0]));
                titles.push(serde_json::json!(subjects).to_string());
                titles.push(serde_json::json!(tags).to_string());
                titles.push(series.clone());
                titles.push(series.as_ref().map(|_| (1 + rng.below(7)).to_string()));
                titles.push(lang);
                titles.push(*rng.pick(PUBLISHERS));
                titles.push(year.to_string());
                titles.push(year);
                titles.push(80 + rng.below(700) as i64);
                titles.push(isbn13_for(i + 1));
                titles.push(notes);
                titles.push(created.clone());
                titles.push(created.clone());
                titles.push(w.stamp().0);
                titles.push(w.stamp().1);
                titles.end_row(&mut w).await?;

                // Copies of this title, and each copy's loan history.
                let titles_left = spec.titles - i;
                let copies_left = spec.copies.saturating_sub(copy_no);
                let n_copies = if titles_left == 1 {
                    copies_left
                } else {
                    (copies_left / titles_left + u64::from(rng.below(titles_left) < copies_left % titles_left)).max(1).min(copies_left)
                };
                for _ in 0..n_copies {
                    let copy_id = Uuid::now_v7();
                    copy_no += 1;
                    let copies_remaining = spec.copies - copy_no + 1;
                    let n_past = past_left / copies_remaining + u64::from(rng.below(copies_remaining) < past_left % copies_remaining);
                    past_left -= n_past;
                    let is_open = rng.below(copies_remaining) < open_left;
                    if is_open {
                        open_left -= 1;
                    }
                    // Walk back from today: the open loan (if any), then past loans.
                    let mut t = now - Duration::days(if is_open { rng.below(40) as i64 } else { 0 });
                    let mut history: Vec<PastLoan> = Vec::new();
                    if is_open {
                        let due = t.date_naive() + Days::new(21);
                        history.push((t, due, None, member_ids[rng.below(member_ids.len() as u64) as usize]));
                    }
                    for _ in 0..n_past {
                        let gap = Duration::days(1 + rng.below(60) as i64);
                        let length = Duration::days(3 + rng.below(30) as i64);
                        let returned = t - gap;
                        let out = returned - length;
                        history.push((
                            out,
                            out.date_naive() + Days::new(21),
                            Some(returned),
                            member_ids[rng.below(member_ids.len() as u64) as usize],
                        ));
                        t = out;
                    }
                    history.reverse();
                    let mut prev: Option<Uuid> = None;
                    for (out, due, returned, member) in &history {
                        let out_id = Uuid::now_v7();
                        for (id, kind, at, due_on) in std::iter::once((out_id, "checked_out", *out, Some(*due)))
                            .chain(returned.map(|r| (Uuid::now_v7(), "checked_in", r, None)))
                        {
                            events.push(id);
                            events.push(copy_id);
                            events.push(kind);
                            events.push(title_id);
                            events.push(copy_id);
                            events.push(*member);
                            events.push(due_on.map(crate::rows::date));
                            events.push(prev);
                            events.push(ts(at));
                            events.push(w.stamp().0);
                            events.push(w.stamp().1);
                            events.end_row(&mut w).await?;
                            prev = Some(id);
                        }
                        loans.push(out_id);
                        loans.push(copy_id);
                        loans.push(title_id);
                        loans.push(*member);
                        loans.push(ts(*out));
                        loans.push(crate::rows::date(*due));
                        loans.push(0i64);
                        loans.push(returned.map(ts));
                        loans.end_row(&mut w).await?;
                    }
                    let acquired = today - Days::new(rng.below(3650) + 1);
                    copies.push(copy_id);
                    copies.push(title_id);
                    copies.push(format!("C{copy_no:08}"));
                    copies.push(*rng.pick(LOCATIONS));
                    copies.push(format!(
                        "{:03}.{} {}",
                        rng.below(1000),
                        rng.below(100),
                        &authors[0].split(' ').next_back().unwrap_or("").to_uppercase().chars().take(3).collect::<String>()
                    ));
                    copies.push(crate::rows::date(acquired));
                    copies.push(500 + rng.below(4000) as i64);
                    copies.push("EUR");
                    copies.push(created.clone());
                    copies.push(created.clone());
                    copies.push(if is_open { "on_loan" } else { "available" });
                    copies.push(prev);
                    copies.push(w.stamp().0);
                    copies.push(w.stamp().1);
                    copies.end_row(&mut w).await?;
                }
            }
            titles.flush(&mut w).await?;
            copies.flush(&mut w).await?;
            events.flush(&mut w).await?;
            loans.flush(&mut w).await?;
            w.end_bulk(marks).await?;
            w.commit().await?;
            done = end;
            progress(Progress { phase: "titles", done, total: spec.titles });
        }
        sqlx::query("PRAGMA optimize").execute(&self.write).await.map_err(db_err)?;
        let seconds = started.elapsed().as_secs_f64();
        let rows = titles.written + copies.written + members.written + events.written + loans.written;
        Ok(GenerateReport {
            titles: titles.written,
            copies: copies.written,
            members: members.written,
            loans: loans.written,
            events: events.written,
            seconds,
            titles_per_second: titles.written as f64 / seconds,
            rows_per_second: rows as f64 / seconds,
        })
    }
}
