//! One module per provider: the request URL and the parser of its answer.
//! Parsers are pure: bytes in, outcome out.

pub mod google;
pub mod loc;
pub mod openlibrary;

use crate::model::{BookFields, FoundRecord, Provider, ProviderOutcome};
use chrono::{DateTime, Utc};

fn found(provider: Provider, fetched_at: DateTime<Utc>, fields: BookFields, cover_url: Option<String>) -> ProviderOutcome {
    ProviderOutcome::Found(FoundRecord { provider, fetched_at, fields, cover_url })
}

/// Percent-encodes a query value (ISBNs need none, but base URLs and
/// queries are built by hand, so be safe).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProviderOutcome;
    use shelfkeeper_domain::isbn::Isbn;
    use shelfkeeper_domain::model::Contributor;

    fn dune() -> Isbn {
        Isbn::parse("0-441-17271-7").unwrap()
    }

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    fn found(outcome: ProviderOutcome) -> crate::model::FoundRecord {
        match outcome {
            ProviderOutcome::Found(r) => r,
            other => panic!("not found: {other:?}"),
        }
    }

    #[test]
    fn urls_carry_the_form_each_provider_wants() {
        let isbn = dune();
        assert_eq!(openlibrary::url("http://h/ol", &isbn), "http://h/ol/api/books?bibkeys=ISBN%3A9780441172719&format=json&jscmd=data");
        assert_eq!(google::url("http://h/g", &isbn), "http://h/g/books/v1/volumes?q=isbn%3A9780441172719");
        assert_eq!(
            loc::url("http://h/loc", &isbn),
            "http://h/loc?version=1.1&operation=searchRetrieve&query=bath.isbn%3D0441172717&maximumRecords=1&recordSchema=marcxml"
        );
        let no_isbn10 = Isbn::parse("979-10-90636-07-1").unwrap();
        assert!(loc::url("http://h/loc", &no_isbn10).contains("bath.isbn%3D9791090636071"));
    }

    #[test]
    fn open_library_record() {
        let r = found(openlibrary::parse(&fixture("openlibrary_found.json"), &dune(), chrono::Utc::now()));
        let f = &r.fields;
        assert_eq!(f.title.as_deref(), Some("Dune"));
        assert_eq!(f.subtitle.as_deref(), Some("40th anniversary edition"));
        assert_eq!(f.contributors, vec![Contributor::author("Frank Herbert")]);
        assert_eq!(f.publisher.as_deref(), Some("Ace Books"));
        assert_eq!(f.published.as_deref(), Some("2005-08-02"));
        assert_eq!(f.pages, Some(896));
        assert_eq!(f.subjects, vec!["Science fiction", "Dune (Imaginary place)"]);
        assert_eq!(f.lccn.as_deref(), Some("2005283013"));
        assert_eq!(f.call_number.as_deref(), Some("PS3558.E63 D8 2005"));
        assert_eq!(f.isbn.as_deref(), Some("9780441172719"));
        assert!(f.notes.as_deref().unwrap().starts_with("Originally published"));
        assert_eq!(r.cover_url.as_deref(), Some("https://covers.openlibrary.org/b/id/11481354-L.jpg"));
        assert_eq!(openlibrary::parse(b"{}", &dune(), chrono::Utc::now()), ProviderOutcome::not_found());
        assert!(matches!(openlibrary::parse(&fixture("malformed.json"), &dune(), chrono::Utc::now()), ProviderOutcome::ProviderError(_)));
        assert!(matches!(openlibrary::parse(b"[]", &dune(), chrono::Utc::now()), ProviderOutcome::ProviderError(_)));
    }

    #[test]
    fn google_record_is_the_volume_with_the_isbn() {
        let r = found(google::parse(&fixture("google_found.json"), &dune(), chrono::Utc::now()));
        let f = &r.fields;
        assert_eq!(f.title.as_deref(), Some("Dune"), "the second volume carries the ISBN, not the first");
        assert_eq!(f.pages, Some(884));
        assert_eq!(f.language.as_deref(), Some("en"));
        assert_eq!(f.published.as_deref(), Some("2005-08-02"));
        assert_eq!(f.subjects, vec!["Fiction"]);
        assert_eq!(
            r.cover_url.as_deref(),
            Some("https://books.google.com/books/content?id=ydQiDQAAQBAJ&printsec=frontcover&img=1&zoom=1&source=gbs_api")
        );
        assert_eq!(google::parse(&fixture("google_not_found.json"), &dune(), chrono::Utc::now()), ProviderOutcome::not_found());
        match google::parse(&fixture("google_other_book.json"), &dune(), chrono::Utc::now()) {
            ProviderOutcome::NotFound { note: Some(note) } => assert!(note.contains("other ISBNs"), "{note}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn loc_marcxml_record() {
        let r = found(loc::parse(&fixture("loc_found.xml"), &dune(), chrono::Utc::now()));
        let f = &r.fields;
        assert_eq!(f.title.as_deref(), Some("Dune"));
        assert_eq!(f.subtitle, None);
        assert_eq!(
            f.contributors,
            vec![
                Contributor::author("Herbert, Frank"),
                Contributor { name: "Herbert, Brian".into(), role: "writer of introduction".into() }
            ]
        );
        assert_eq!(f.publisher.as_deref(), Some("Ace Books"));
        assert_eq!(f.published.as_deref(), Some("2005"));
        assert_eq!(f.pages, Some(884));
        assert_eq!(f.language.as_deref(), Some("en"), "MARC's eng is spelt like Google's en");
        assert_eq!(f.subjects, vec!["Dune (Imaginary place) -- Fiction", "Science fiction & fantasy"]);
        assert_eq!(f.lccn.as_deref(), Some("2005283013"));
        assert_eq!(f.call_number.as_deref(), Some("PS3558.E63 D8 2005"));
        assert_eq!(f.series.as_deref(), Some("Dune chronicles"));
        assert_eq!(f.series_number.as_deref(), Some("1"));
        assert_eq!(r.cover_url, None);
        // The fields make a valid title draft.
        let draft = shelfkeeper_domain::model::TitleDraft {
            title: f.title.clone().unwrap(),
            contributors: f.contributors.clone(),
            language: f.language.clone(),
            published: f.published.clone(),
            pages: f.pages,
            isbn: f.isbn.clone(),
            lccn: f.lccn.clone(),
            series_number: f.series_number.clone(),
            ..Default::default()
        };
        draft.validate().unwrap();
    }

    #[test]
    fn loc_not_found_other_isbn_diagnostics_and_bad_xml() {
        let now = chrono::Utc::now();
        assert_eq!(loc::parse(&fixture("loc_not_found.xml"), &dune(), now), ProviderOutcome::not_found());
        assert!(matches!(loc::parse(&fixture("loc_other_isbn.xml"), &dune(), now), ProviderOutcome::NotFound { note: Some(_) }));
        match loc::parse(&fixture("loc_diagnostic.xml"), &dune(), now) {
            ProviderOutcome::ProviderError(m) => assert!(m.contains("Query syntax error"), "{m}"),
            other => panic!("{other:?}"),
        }
        for bad in [&fixture("malformed.xml")[..], b"", b"<html><body>busy</body></html>", b"\xff\xfe<x/>", b"{}"] {
            assert!(matches!(loc::parse(bad, &dune(), now), ProviderOutcome::ProviderError(_)), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn loc_never_expands_declared_entities() {
        let r = found(loc::parse(&fixture("loc_xxe.xml"), &dune(), chrono::Utc::now()));
        assert_eq!(r.fields.title.as_deref(), Some("Dune \u{2014} <1>"));
    }
}
