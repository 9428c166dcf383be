//! Google Books: `GET {base}/books/v1/volumes?q=isbn:{isbn13}`.
//!
//! The search can return volumes of other books. Only a volume whose
//! `industryIdentifiers` hold the ISBN asked for (as ISBN-10 or ISBN-13) is
//! accepted; when none does the answer is not found, with a note — never a
//! guess by title.

use super::{encode, found};
use crate::language;
use crate::model::{BookFields, Provider, ProviderOutcome};
use crate::text::{clean, pages, published};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shelfkeeper_domain::isbn::Isbn;
use shelfkeeper_domain::model::Contributor;

pub fn url(base: &str, isbn: &Isbn) -> String {
    format!("{base}/books/v1/volumes?q={}", encode(&format!("isbn:{}", isbn.isbn13())))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Volumes {
    #[serde(default)]
    total_items: i64,
    #[serde(default)]
    items: Vec<Volume>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Volume {
    #[serde(default)]
    volume_info: VolumeInfo,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct VolumeInfo {
    title: Option<String>,
    subtitle: Option<String>,
    authors: Vec<String>,
    publisher: Option<String>,
    published_date: Option<String>,
    page_count: Option<i64>,
    categories: Vec<String>,
    language: Option<String>,
    industry_identifiers: Vec<Identifier>,
    image_links: Option<ImageLinks>,
}

#[derive(Deserialize)]
struct Identifier {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    identifier: String,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ImageLinks {
    thumbnail: Option<String>,
    small_thumbnail: Option<String>,
}

pub fn parse(body: &[u8], isbn: &Isbn, fetched_at: DateTime<Utc>) -> ProviderOutcome {
    let answer: Volumes = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return ProviderOutcome::ProviderError(format!("malformed JSON from Google Books: {e}")),
    };
    if answer.total_items == 0 || answer.items.is_empty() {
        return ProviderOutcome::not_found();
    }
    let matches =
        |id: &Identifier| matches!(id.kind.as_str(), "ISBN_10" | "ISBN_13") && Isbn::parse(&id.identifier).is_ok_and(|i| i == *isbn);
    let Some(volume) = answer.items.iter().find(|v| v.volume_info.industry_identifiers.iter().any(matches)) else {
        let others: Vec<&str> = answer.items.iter().filter_map(|v| v.volume_info.title.as_deref()).take(3).collect();
        return ProviderOutcome::NotFound {
            note: Some(format!(
                "Google Books returned {} volume(s) for other ISBNs ({}); none was taken",
                answer.items.len(),
                if others.is_empty() { "untitled".to_string() } else { others.join("; ") }
            )),
        };
    };
    let info = &volume.volume_info;
    let opt = |s: &Option<String>| s.as_deref().and_then(clean);
    let cover = info.image_links.as_ref().and_then(|l| l.thumbnail.as_deref().or(l.small_thumbnail.as_deref())).and_then(clean).map(|u| {
        // Google's thumbnails come over http with a page-curl effect.
        let u = u.replace("&edge=curl", "");
        match u.strip_prefix("http://books.google.") {
            Some(rest) => format!("https://books.google.{rest}"),
            None => u,
        }
    });
    let fields = BookFields {
        title: opt(&info.title),
        subtitle: opt(&info.subtitle),
        contributors: info.authors.iter().filter_map(|a| clean(a)).map(Contributor::author).collect(),
        publisher: opt(&info.publisher),
        published: info.published_date.as_deref().and_then(published),
        pages: info.page_count.and_then(pages),
        language: info.language.as_deref().and_then(language::normalise),
        subjects: info.categories.iter().filter_map(|c| clean(c)).collect(),
        lccn: None,
        call_number: None,
        series: None,
        series_number: None,
        isbn: Some(isbn.isbn13().to_string()),
        notes: None,
    };
    found(Provider::GoogleBooks, fetched_at, fields, cover)
}
