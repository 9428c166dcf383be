//! ISBN look-ups through the store's cache, and adding a title from one.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use shelfkeeper_domain::access::Actor;
use shelfkeeper_domain::isbn::Isbn;
use shelfkeeper_domain::model::{Title, TitleDraft};
use shelfkeeper_domain::provenance::{self, FieldSource, FieldSources, TitleField};
use shelfkeeper_domain::{Error, Result};
use shelfkeeper_metadata::{Client, Config, LookupReport, Overall};
use shelfkeeper_store::{CachedLookup, Store};
use std::collections::BTreeMap;

/// A found answer is trusted this long before the providers are asked
/// again; a "not found" for a week (catalogues grow).
const FOUND_FRESH_DAYS: i64 = 180;
const NOT_FOUND_FRESH_DAYS: i64 = 7;

/// The metadata client: `SHELFKEEPER_METADATA_CONFIG` names a JSON settings
/// file (see `shelfkeeper_metadata::Config`); `SHELFKEEPER_METADATA_ROOT`
/// points every provider at one server (a mirror, or the tests' fixture
/// server); otherwise the real services.
pub fn metadata_client() -> Result<Client> {
    let mut config = match std::env::var_os("SHELFKEEPER_METADATA_CONFIG") {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Error::Lookup(format!("look-up settings {} cannot be read: {e}", path.to_string_lossy())))?;
            serde_json::from_str::<Config>(&text).map_err(|e| Error::Lookup(format!("look-up settings {}: {e}", path.to_string_lossy())))?
        }
        None => Config::default(),
    };
    if let Ok(root) = std::env::var("SHELFKEEPER_METADATA_ROOT") {
        config = config.with_root(&root);
    }
    Client::new(config).map_err(|e| Error::Lookup(format!("look-ups are not available: {e}")))
}

/// One provider's answer, for people.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ProviderAnswer {
    pub provider: String,
    pub label: String,
    /// found / not_found / offline / provider_error
    pub outcome: String,
    pub detail: Option<String>,
}

/// What is known about an ISBN.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct LookupAnswer {
    pub isbn13: String,
    /// found / not_found / offline / provider_error
    pub outcome: String,
    /// One sentence for people.
    pub message: String,
    pub from_cache: bool,
    pub fetched_at: Option<DateTime<Utc>>,
    /// The title already catalogued with this ISBN.
    pub existing: Option<Title>,
    /// The values found, merged across providers (no cover: see `cover_url`).
    pub draft: Option<TitleDraft>,
    /// Which provider gave each field.
    pub sources: BTreeMap<TitleField, String>,
    pub cover_url: Option<String>,
    pub providers: Vec<ProviderAnswer>,
}

fn fresh(c: &CachedLookup, now: DateTime<Utc>) -> bool {
    match c.outcome.as_str() {
        "found" => now - c.fetched_at < Duration::days(FOUND_FRESH_DAYS),
        "not_found" => now - c.fetched_at < Duration::days(NOT_FOUND_FRESH_DAYS),
        _ => false,
    }
}

fn answer(report: &LookupReport, existing: Option<Title>, from_cache: bool) -> LookupAnswer {
    let overall = report.overall();
    let merged = report.merged();
    let mut sources = BTreeMap::new();
    let (mut draft, mut cover_url) = (None, None);
    if let Some(m) = &merged {
        let mut d = m.to_title_draft();
        d.cover_ref = None;
        draft = Some(d);
        cover_url = m.cover_url.as_ref().map(|c| c.value.clone());
        for (name, source) in m.sources() {
            if let Some(field) = TitleField::parse(name) {
                sources.insert(field, source.provider.as_str().to_string());
            }
        }
    }
    let providers: Vec<ProviderAnswer> = report
        .outcomes
        .iter()
        .map(|(p, o)| ProviderAnswer {
            provider: p.as_str().into(),
            label: p.label().into(),
            outcome: o.code().into(),
            detail: match o {
                shelfkeeper_metadata::ProviderOutcome::Found(_) => None,
                shelfkeeper_metadata::ProviderOutcome::NotFound { note } => note.clone(),
                shelfkeeper_metadata::ProviderOutcome::Offline(d) | shelfkeeper_metadata::ProviderOutcome::ProviderError(d) => {
                    Some(d.clone())
                }
            },
        })
        .collect();
    let labels = |code: &str| providers.iter().filter(|p| p.outcome == code).map(|p| p.label.clone()).collect::<Vec<_>>().join(", ");
    let message = match overall {
        Overall::Found => format!("Found by {}", labels("found")),
        Overall::NotFound => format!("No provider knows ISBN {} ({} asked)", report.isbn13, providers.len()),
        Overall::Offline => "No provider could be reached: the computer may be offline. Try again later, or catalogue by hand.".into(),
        Overall::ProviderError => format!(
            "The providers failed to answer ({}); nothing was found. Try again later, or catalogue by hand.",
            providers.iter().filter(|p| p.outcome != "not_found").map(|p| p.label.clone()).collect::<Vec<_>>().join(", ")
        ),
    };
    LookupAnswer {
        isbn13: report.isbn13.clone(),
        outcome: overall.code().into(),
        message,
        from_cache,
        fetched_at: Some(report.fetched_at),
        existing,
        draft,
        sources,
        cover_url,
        providers,
    }
}

/// Looks an ISBN up: the cache when its answer is fresh (always, when the
/// providers cannot be reached), else the providers, whose answer is kept.
pub async fn lookup_isbn(store: &Store, client: &Client, isbn: &str, refresh: bool) -> Result<LookupAnswer> {
    let isbn = Isbn::parse(isbn)?;
    let existing = store.title_by_isbn(isbn.as_str()).await?;
    let cached = store.cached_lookup(isbn.as_str()).await?;
    let now = Utc::now();
    if let Some(c) = &cached
        && !refresh
        && fresh(c, now)
        && let Ok(report) = serde_json::from_value::<LookupReport>(c.report.clone())
    {
        return Ok(answer(&report, existing, true));
    }
    let report = client.lookup(&isbn).await;
    let overall = report.overall();
    let entry = CachedLookup {
        isbn13: report.isbn13.clone(),
        fetched_at: report.fetched_at,
        outcome: overall.code().into(),
        report: serde_json::to_value(&report).map_err(|e| Error::Lookup(e.to_string()))?,
    };
    store.cache_lookup(&entry).await?;
    if matches!(overall, Overall::Offline | Overall::ProviderError)
        && let Some(c) = cached.filter(|c| c.outcome == "found" || c.outcome == "not_found")
        && let Ok(old) = serde_json::from_value::<LookupReport>(c.report)
    {
        let mut a = answer(&old, existing, true);
        a.message =
            format!("{} (the providers could not be asked now; this answer is from {})", a.message, c.fetched_at.format("%Y-%m-%d"));
        return Ok(a);
    }
    Ok(answer(&report, existing, false))
}

/// A title added from a look-up, and what became of its cover.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct AddedTitle {
    pub title: Title,
    /// Why the cover could not be fetched, if it could not.
    pub cover_problem: Option<String>,
}

/// Adds a title a person checked after a look-up: each field still equal to
/// what a provider found is credited to that provider, anything the person
/// typed is `manual`. The cover found is downloaded, checked and stored, so
/// it shows offline; a cover that cannot be fetched does not stop the title.
pub async fn add_from_lookup(store: &Store, client: &Client, actor: &Actor, draft: &TitleDraft) -> Result<AddedTitle> {
    let now = Utc::now();
    let found = match draft.isbn.as_deref().map(Isbn::parse).transpose()? {
        Some(isbn) => store.cached_lookup(isbn.as_str()).await?,
        None => None,
    };
    let report = found.and_then(|c| serde_json::from_value::<LookupReport>(c.report).ok());
    let looked_up = report.as_ref().map(|r| answer(r, None, true));
    let mut sources: FieldSources = provenance::sources_for_new(draft, provenance::MANUAL, now);
    if let Some(a) = &looked_up
        && let Some(found_draft) = &a.draft
    {
        let differing = provenance::changed_fields(found_draft, draft);
        for (field, provider) in &a.sources {
            if !differing.contains(field) && field.value(draft).is_some() {
                sources.insert(*field, FieldSource { source: provider.clone(), at: a.fetched_at.unwrap_or(now), locked: false });
            }
        }
    }
    let title = store.add_title_with_sources(actor, draft, &sources).await?;
    let mut cover_problem = None;
    if let Some(a) = &looked_up
        && let Some(url) = &a.cover_url
    {
        let provider = a.sources.get(&TitleField::Cover).cloned().unwrap_or_else(|| "lookup".into());
        match client.download_cover(url).await {
            Ok(bytes) => match store.set_cover(actor, title.id, &bytes, &provider).await {
                Ok(_) => {}
                Err(e) => cover_problem = Some(e.to_string()),
            },
            Err(e) => cover_problem = Some(format!("the cover could not be fetched: {e}")),
        }
    }
    let title = store.title(title.id).await?;
    Ok(AddedTitle { title, cover_problem })
}
