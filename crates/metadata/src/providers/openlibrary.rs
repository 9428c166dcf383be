//! Open Library's Books API:
//! `GET {base}/api/books?bibkeys=ISBN:{isbn13}&format=json&jscmd=data`.
//! The answer is an object keyed by the bibkey asked for, `{}` when the
//! book is unknown.

use super::{encode, found};
use crate::language;
use crate::model::{BookFields, Provider, ProviderOutcome};
use crate::text::{clean, pages, published};
use chrono::{DateTime, Utc};
use serde_json::Value;
use shelfkeeper_domain::isbn::Isbn;
use shelfkeeper_domain::model::Contributor;

pub fn url(base: &str, isbn: &Isbn) -> String {
    format!("{base}/api/books?bibkeys={}&format=json&jscmd=data", encode(&format!("ISBN:{}", isbn.isbn13())))
}

pub fn parse(body: &[u8], isbn: &Isbn, fetched_at: DateTime<Utc>) -> ProviderOutcome {
    let root: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return ProviderOutcome::ProviderError(format!("malformed JSON from Open Library: {e}")),
    };
    let Some(map) = root.as_object() else {
        return ProviderOutcome::ProviderError("Open Library's answer is not a JSON object".into());
    };
    // Keyed by the bibkey as sent; accept the ISBN-10 key too.
    let keys = [Some(format!("ISBN:{}", isbn.isbn13())), isbn.isbn10().map(|i| format!("ISBN:{i}"))];
    let Some(book) = keys.iter().flatten().find_map(|k| map.get(k)) else {
        return if map.is_empty() {
            ProviderOutcome::not_found()
        } else {
            ProviderOutcome::NotFound { note: Some("Open Library answered for another ISBN".into()) }
        };
    };
    let Some(book) = book.as_object() else {
        return ProviderOutcome::ProviderError("Open Library's record is not a JSON object".into());
    };
    let s = |key: &str| book.get(key).and_then(Value::as_str).and_then(clean);
    let names = |key: &str| -> Vec<String> {
        book.get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.get("name").and_then(Value::as_str).or(v.as_str())).filter_map(clean).collect())
            .unwrap_or_default()
    };
    let first_of =
        |obj: &str, key: &str| -> Option<String> { book.get(obj)?.get(key)?.as_array()?.iter().filter_map(Value::as_str).find_map(clean) };
    let notes = match book.get("notes") {
        Some(Value::String(s)) => clean(s),
        Some(Value::Object(o)) => o.get("value").and_then(Value::as_str).and_then(clean),
        _ => None,
    };
    let language = book
        .get("languages")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(|l| l.get("key").and_then(Value::as_str))
        .and_then(|k| language::normalise(k.rsplit('/').next().unwrap_or("")));
    let pages_n = book.get("number_of_pages").and_then(Value::as_i64).and_then(pages);
    let cover = book
        .get("cover")
        .and_then(|c| ["large", "medium", "small"].iter().find_map(|size| c.get(*size).and_then(Value::as_str).and_then(clean)));
    let fields = BookFields {
        title: s("title"),
        subtitle: s("subtitle"),
        contributors: names("authors").into_iter().map(Contributor::author).collect(),
        publisher: names("publishers").into_iter().next(),
        published: s("publish_date").and_then(|d| published(&d)),
        pages: pages_n,
        language,
        subjects: names("subjects"),
        lccn: first_of("identifiers", "lccn"),
        call_number: first_of("classifications", "lc_classifications").or_else(|| first_of("classifications", "dewey_decimal_class")),
        series: None,
        series_number: None,
        isbn: Some(isbn.isbn13().to_string()),
        notes,
    };
    found(Provider::OpenLibrary, fetched_at, fields, cover)
}
