//! The catalogue: titles, their copies and covers, search and ISBN look-ups.

use super::ME;
use crate::args::{AddTitle, Find, SortArg};
use crate::render::print;
use shelfkeeper_domain::ids::TitleId;
use shelfkeeper_domain::model::{Contributor, CopyDraft, Title, TitleDraft};
use shelfkeeper_domain::search::{Filters, SearchRequest, SortOrder};
use shelfkeeper_domain::{Error, Result};
use shelfkeeper_store::Store;
use std::path::Path;

/// A title by its id or its ISBN.
async fn find_title(store: &Store, id_or_isbn: &str) -> Result<Title> {
    match id_or_isbn.parse::<TitleId>() {
        Ok(id) => store.title(id).await,
        Err(_) => store.title_by_isbn(id_or_isbn).await?.ok_or_else(|| Error::TitleNotFound(id_or_isbn.to_string())),
    }
}

pub async fn add_title(store: &Store, a: AddTitle, json: bool) -> Result<()> {
    let draft = TitleDraft {
        title: a.title,
        subtitle: a.subtitle,
        contributors: a.authors.into_iter().map(Contributor::author).collect(),
        isbn: a.isbn,
        published: a.published,
        language: a.language,
        subjects: a.subjects,
        tags: a.tags,
        notes: a.notes,
        ..Default::default()
    };
    let title = store.add_title(ME, &draft).await?;
    for b in &a.copies {
        store.add_copy(ME, title.id, &CopyDraft { barcode: b.clone(), location: a.location.clone(), ..Default::default() }).await?;
    }
    let title = store.title(title.id).await?;
    print(json, &title, |t| {
        format!("Added '{}' ({}) with {} {}", t.title, t.id, t.copy_count, if t.copy_count == 1 { "copy" } else { "copies" })
    });
    Ok(())
}

pub async fn set_cover(store: &Store, id_or_isbn: &str, file: &Path, json: bool) -> Result<()> {
    let title = find_title(store, id_or_isbn).await?;
    let bytes = std::fs::read(file).map_err(|e| Error::InvalidCover(format!("{} cannot be read: {e}", file.display())))?;
    let t = store.set_cover(ME, title.id, &bytes, "file").await?;
    print(json, &t, |t| format!("Set the cover of '{}' ({} bytes)", t.title, bytes.len()));
    Ok(())
}

pub async fn show(store: &Store, id_or_isbn: &str, json: bool) -> Result<()> {
    let title = find_title(store, id_or_isbn).await?;
    let copies = store.copies_of(title.id).await?;
    print(json, &(&title, &copies), |(t, copies)| {
        let mut s = format!("{}{}\n", t.title, t.subtitle.as_ref().map(|x| format!(": {x}")).unwrap_or_default());
        let names: Vec<&str> = t.contributors.iter().map(|c| c.name.as_str()).collect();
        s += &format!("  by {}\n  id {}  ISBN {}\n", names.join(", "), t.id, t.isbn13.as_deref().unwrap_or("-"));
        for c in copies.iter() {
            s += &format!("  copy {} [{}] {}\n", c.barcode, c.status.as_str(), c.location.as_deref().unwrap_or(""));
        }
        s
    });
    Ok(())
}

pub async fn find(store: &Store, f: Find, json: bool) -> Result<()> {
    let req = SearchRequest {
        text: f.text.join(" "),
        filters: Filters {
            subject: f.subject,
            tag: f.tag,
            language: f.language,
            year_from: f.year_from,
            year_to: f.year_to,
            available: f.available,
            location: f.location,
        },
        sort: match f.sort {
            SortArg::Relevance => SortOrder::Relevance,
            SortArg::Title => SortOrder::Title,
            SortArg::Author => SortOrder::Author,
            SortArg::Newest => SortOrder::YearNewest,
            SortArg::Oldest => SortOrder::YearOldest,
            SortArg::Added => SortOrder::RecentlyAdded,
        },
        cursor: None,
        limit: Some(f.limit),
    };
    let page = store.search(&req).await?;
    print(json, &page, |p| {
        let mut s = format!("{}{} matches\n", p.total.value, if p.total.exact { "" } else { "+" });
        for h in &p.hits {
            s += &format!(
                "{}  {} — {} ({})  {}/{} available\n",
                h.id,
                h.title,
                h.authors.join(", "),
                h.year.map(|y| y.to_string()).unwrap_or_default(),
                h.available_count,
                h.copy_count
            );
        }
        s
    });
    Ok(())
}

pub async fn add_copy(
    store: &Store,
    title_id: TitleId,
    barcode: String,
    location: Option<String>,
    shelf: Option<String>,
    json: bool,
) -> Result<()> {
    let copy = store.add_copy(ME, title_id, &CopyDraft { barcode, location, shelf, ..Default::default() }).await?;
    print(json, &copy, |c| format!("Added copy {}", c.barcode));
    Ok(())
}

pub async fn lookup(store: &Store, isbn: &str, add: bool, refresh: bool, update: bool, json: bool) -> Result<()> {
    let client = shelfkeeper_app::metadata_client()?;
    let a = shelfkeeper_app::lookup_isbn(store, &client, isbn, refresh).await?;
    if update {
        let t = a.existing.as_ref().ok_or_else(|| Error::TitleNotFound(a.isbn13.clone()))?;
        let found = a.draft.clone().ok_or_else(|| Error::Lookup(a.message.clone()))?;
        let (title, changes) = store.refresh_title(ME, t.id, &found, &a.sources).await?;
        print(json, &changes, |changes| {
            let mut out = format!("Updated '{}': {} fields changed", title.title, changes.len());
            for c in changes {
                out.push_str(&format!(
                    "\n  {:<13} {} → {}  [{}]",
                    c.field.as_str(),
                    c.before.as_deref().unwrap_or("—"),
                    c.after.as_deref().unwrap_or("—"),
                    c.source
                ));
            }
            out
        });
    } else if add {
        if let Some(t) = &a.existing {
            return Err(Error::DuplicateIsbn { isbn: a.isbn13.clone(), title: t.title.clone() });
        }
        let draft = a.draft.clone().ok_or_else(|| Error::Lookup(a.message.clone()))?;
        let added = shelfkeeper_app::add_from_lookup(store, &client, ME, &draft).await?;
        print(json, &added, |x| {
            format!(
                "Added '{}' ({}){}",
                x.title.title,
                x.title.id,
                x.cover_problem.as_ref().map(|p| format!("; {p}")).unwrap_or_else(|| if x.title.cover_ref.is_some() {
                    " with its cover".into()
                } else {
                    String::new()
                })
            )
        });
    } else {
        print(json, &a, |a| {
            let mut out = format!("{}{}", a.message, if a.from_cache { " (from the cache)" } else { "" });
            if let Some(t) = &a.existing {
                out.push_str(&format!("\nAlready catalogued: '{}' ({})", t.title, t.id));
            }
            if let Some(d) = &a.draft {
                for f in shelfkeeper_domain::provenance::TitleField::ALL {
                    if let Some(v) = f.value(d) {
                        out.push_str(&format!("\n  {:<13} {}  [{}]", f.as_str(), v, a.sources.get(&f).map(String::as_str).unwrap_or("")));
                    }
                }
            }
            for p in &a.providers {
                out.push_str(&format!(
                    "\n  {}: {}{}",
                    p.label,
                    p.outcome,
                    p.detail.as_ref().map(|d| format!(" ({d})")).unwrap_or_default()
                ));
            }
            out
        });
    }
    Ok(())
}
