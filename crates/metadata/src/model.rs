//! What a look-up returns: one outcome per provider, the records found, and
//! a merged record whose every field names the provider it came from.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shelfkeeper_domain::model::{Contributor, TitleDraft};

/// A metadata service. The serialised names (`open_library`,
/// `google_books`, `loc`) are the source names the store records per field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
pub enum Provider {
    #[serde(rename = "open_library")]
    OpenLibrary,
    #[serde(rename = "google_books")]
    GoogleBooks,
    #[serde(rename = "loc")]
    LibraryOfCongress,
}

impl Provider {
    pub const ALL: [Provider; 3] = [Provider::OpenLibrary, Provider::GoogleBooks, Provider::LibraryOfCongress];

    /// The stable name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::OpenLibrary => "open_library",
            Provider::GoogleBooks => "google_books",
            Provider::LibraryOfCongress => "loc",
        }
    }

    /// The name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Provider::OpenLibrary => "Open Library",
            Provider::GoogleBooks => "Google Books",
            Provider::LibraryOfCongress => "Library of Congress",
        }
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// The descriptive fields one provider gave for a book, shaped like
/// [`TitleDraft`]. Empty strings never appear: a missing value is `None` or
/// an empty list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct BookFields {
    pub title: Option<String>,
    pub subtitle: Option<String>,
    pub contributors: Vec<Contributor>,
    pub publisher: Option<String>,
    /// "YYYY", "YYYY-MM" or "YYYY-MM-DD" (what `TitleDraft` accepts); a
    /// date the provider wrote another way is reduced to its year.
    pub published: Option<String>,
    pub pages: Option<i64>,
    /// ISO 639-1 ("en") where the language has one, else ISO 639-2/B ("haw").
    pub language: Option<String>,
    pub subjects: Vec<String>,
    pub lccn: Option<String>,
    pub call_number: Option<String>,
    pub series: Option<String>,
    pub series_number: Option<String>,
    /// The ISBN-13 asked for (every record found matched it).
    pub isbn: Option<String>,
    pub notes: Option<String>,
}

/// One provider's record for the ISBN asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct FoundRecord {
    pub provider: Provider,
    /// When the answer arrived.
    pub fetched_at: DateTime<Utc>,
    #[serde(flatten)]
    pub fields: BookFields,
    /// A cover image to fetch with `Client::download_cover`, if the
    /// provider named one.
    pub cover_url: Option<String>,
}

/// What one provider answered.
// A report holds three at most: boxing the record would only cost ergonomics.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "status", content = "detail", rename_all = "snake_case")]
pub enum ProviderOutcome {
    Found(FoundRecord),
    /// The provider answered and has no record for this ISBN. `note` says
    /// why when it is not plain (records returned for other books).
    NotFound {
        note: Option<String>,
    },
    /// The provider could not be reached: connection refused, DNS, timeout.
    Offline(String),
    /// The provider answered wrongly: 5xx (after retries), 4xx other than
    /// 404, 429 after retries, malformed JSON or XML, a body over the cap.
    ProviderError(String),
}

impl ProviderOutcome {
    /// A stable machine code: `found`, `not_found`, `offline`, `provider_error`.
    pub fn code(&self) -> &'static str {
        match self {
            ProviderOutcome::Found(_) => "found",
            ProviderOutcome::NotFound { .. } => "not_found",
            ProviderOutcome::Offline(_) => "offline",
            ProviderOutcome::ProviderError(_) => "provider_error",
        }
    }

    pub fn found(&self) -> Option<&FoundRecord> {
        match self {
            ProviderOutcome::Found(r) => Some(r),
            _ => None,
        }
    }

    pub(crate) fn not_found() -> Self {
        ProviderOutcome::NotFound { note: None }
    }
}

/// The look-up as a whole, for the UI to say exactly what happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Overall {
    /// At least one provider found the book.
    Found,
    /// Every provider answered that it has no such book.
    NotFound,
    /// No provider could be reached (every one was offline).
    Offline,
    /// None found it and at least one failed (an error, or offline while
    /// others answered not found): trying again later may find it.
    ProviderError,
}

impl Overall {
    pub fn code(self) -> &'static str {
        match self {
            Overall::Found => "found",
            Overall::NotFound => "not_found",
            Overall::Offline => "offline",
            Overall::ProviderError => "provider_error",
        }
    }
}

/// Everything one look-up learnt. Round-trips through serde_json, so the
/// store can cache it as it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct LookupReport {
    /// The ISBN asked for, 13 digits.
    pub isbn13: String,
    /// When the look-up started.
    pub fetched_at: DateTime<Utc>,
    /// One entry per enabled provider, in priority order.
    pub outcomes: Vec<(Provider, ProviderOutcome)>,
}

impl LookupReport {
    pub fn overall(&self) -> Overall {
        let outcomes = || self.outcomes.iter().map(|(_, o)| o);
        if outcomes().any(|o| matches!(o, ProviderOutcome::Found(_))) {
            Overall::Found
        } else if outcomes().all(|o| matches!(o, ProviderOutcome::NotFound { .. })) {
            Overall::NotFound
        } else if outcomes().all(|o| matches!(o, ProviderOutcome::Offline(_))) {
            Overall::Offline
        } else {
            Overall::ProviderError
        }
    }

    /// The records found, in priority order.
    pub fn found(&self) -> impl Iterator<Item = &FoundRecord> {
        self.outcomes.iter().filter_map(|(_, o)| o.found())
    }

    /// One record built from the found ones: each field from the first
    /// provider (in priority order, the order of `outcomes`) that has it.
    /// Lists (contributors, subjects) are taken whole from one provider,
    /// never mixed.
    pub fn merged(&self) -> Option<MergedRecord> {
        let found: Vec<&FoundRecord> = self.found().collect();
        if found.is_empty() {
            return None;
        }
        fn pick<T: Clone>(found: &[&FoundRecord], get: impl Fn(&FoundRecord) -> Option<T>) -> Option<Sourced<T>> {
            found
                .iter()
                .find_map(|r| get(r).map(|value| Sourced { value, source: FieldSource { provider: r.provider, fetched_at: r.fetched_at } }))
        }
        let non_empty = |v: &Vec<_>| !v.is_empty();
        Some(MergedRecord {
            title: pick(&found, |r| r.fields.title.clone()),
            subtitle: pick(&found, |r| r.fields.subtitle.clone()),
            contributors: pick(&found, |r| Some(r.fields.contributors.clone()).filter(non_empty)),
            publisher: pick(&found, |r| r.fields.publisher.clone()),
            published: pick(&found, |r| r.fields.published.clone()),
            pages: pick(&found, |r| r.fields.pages),
            language: pick(&found, |r| r.fields.language.clone()),
            subjects: pick(&found, |r| Some(r.fields.subjects.clone()).filter(|v| !v.is_empty())),
            lccn: pick(&found, |r| r.fields.lccn.clone()),
            call_number: pick(&found, |r| r.fields.call_number.clone()),
            series: pick(&found, |r| r.fields.series.clone()),
            series_number: pick(&found, |r| r.fields.series_number.clone()),
            isbn: pick(&found, |r| r.fields.isbn.clone()),
            notes: pick(&found, |r| r.fields.notes.clone()),
            cover_url: pick(&found, |r| r.cover_url.clone()),
        })
    }
}

/// Which provider gave a field, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct FieldSource {
    pub provider: Provider,
    pub fetched_at: DateTime<Utc>,
}

/// A value with its source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Sourced<T> {
    pub value: T,
    pub source: FieldSource,
}

/// The merged result of a look-up; see [`LookupReport::merged`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct MergedRecord {
    pub title: Option<Sourced<String>>,
    pub subtitle: Option<Sourced<String>>,
    pub contributors: Option<Sourced<Vec<Contributor>>>,
    pub publisher: Option<Sourced<String>>,
    pub published: Option<Sourced<String>>,
    pub pages: Option<Sourced<i64>>,
    pub language: Option<Sourced<String>>,
    pub subjects: Option<Sourced<Vec<String>>>,
    pub lccn: Option<Sourced<String>>,
    pub call_number: Option<Sourced<String>>,
    pub series: Option<Sourced<String>>,
    pub series_number: Option<Sourced<String>>,
    pub isbn: Option<Sourced<String>>,
    pub notes: Option<Sourced<String>>,
    pub cover_url: Option<Sourced<String>>,
}

impl MergedRecord {
    /// The values as a draft (`cover_ref` holds the cover URL, not fetched).
    /// Which of them may overwrite a stored title is the store's decision.
    pub fn to_title_draft(&self) -> TitleDraft {
        fn v<T: Clone>(s: &Option<Sourced<T>>) -> Option<T> {
            s.as_ref().map(|s| s.value.clone())
        }
        TitleDraft {
            title: v(&self.title).unwrap_or_default(),
            subtitle: v(&self.subtitle),
            contributors: v(&self.contributors).unwrap_or_default(),
            subjects: v(&self.subjects).unwrap_or_default(),
            tags: Vec::new(),
            series: v(&self.series),
            series_number: v(&self.series_number),
            language: v(&self.language),
            publisher: v(&self.publisher),
            published: v(&self.published),
            pages: v(&self.pages),
            isbn: v(&self.isbn),
            lccn: v(&self.lccn),
            call_number: v(&self.call_number),
            notes: v(&self.notes),
            cover_ref: v(&self.cover_url),
        }
    }

    /// Each filled field's source, named as the store names title fields
    /// (`title`, `series_number`, ..., `cover` for the cover URL).
    pub fn sources(&self) -> Vec<(&'static str, FieldSource)> {
        fn s<T>(name: &'static str, f: &Option<Sourced<T>>) -> Option<(&'static str, FieldSource)> {
            f.as_ref().map(|f| (name, f.source))
        }
        [
            s("title", &self.title),
            s("subtitle", &self.subtitle),
            s("contributors", &self.contributors),
            s("subjects", &self.subjects),
            s("series", &self.series),
            s("series_number", &self.series_number),
            s("language", &self.language),
            s("publisher", &self.publisher),
            s("published", &self.published),
            s("pages", &self.pages),
            s("isbn", &self.isbn),
            s("lccn", &self.lccn),
            s("call_number", &self.call_number),
            s("notes", &self.notes),
            s("cover", &self.cover_url),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}
